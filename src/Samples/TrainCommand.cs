using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.BlockSparse;
using Microsoft.ML.BlockSparse.Data;
using Microsoft.ML.Data;

namespace Samples;

/// <summary>
/// <c>train</c>: trains on an IDX data set (MNIST by default) or an image folder (Model Builder layout),
/// evaluates on its test split, prints
/// ML.NET metrics and the sparsity report, saves the model zip, optionally writes a JSON report.
/// </summary>
internal static class TrainCommand
{
    public const string Usage = """
        train [--data DIR] [--epochs N] [--rank R] [--block MxN[,MxN...]] [--hidden 300,100] [--seed S]
              [--l1 X] [--l1-increment X] [--lr X] [--lr-schedule cosine|constant] [--batch N] [--device auto|cpu|cuda]
              [--train-rows N] [--test-rows N] [--model FILE.zip] [--report FILE.json]
              [--method kronecker|dense|grouplasso] [--search] [--candidates MxN/MxN[,...]] [--shape-lambda X] [--shape-lambda-increment X] [--decide-after N] [--search-flops F]
              [--group-lasso X] [--target-sparsity F] [--validation-fraction X] [--patience N] [--checkpoint DIR [--resume]]
              [--resume-from FILE] [--test-fraction F] [--image-size WxH] [--channels 1|3] [--skip-bad-images] [--architecture mlp|lenet5|vit]
              [--caching auto|memory|stream] [--shuffle-buffer N]
              [--patch P] [--vit-dim D] [--vit-depth N] [--vit-heads H] [--vit-mlp-ratio R]
          --architecture  mlp (default: --hidden layers on the flat pixels) or lenet5 (two factored convolutions with pooling,
                    then 120, 84 and the classes; --hidden does not apply, --block takes 5 shapes: conv channel blocks, then linear)
                    or vit (a Vision Transformer: patch embedding, pre-norm encoder blocks, mean pooling, classifier; --block
                    takes 2 + 4·depth shapes: patch, then each block's qkv, proj, fc1, fc2, then the classifier)
          --patch, --vit-dim, --vit-depth, --vit-heads, --vit-mlp-ratio  the vit's patch side (default 7), token width (64),
                    encoder blocks (2), attention heads (4) and MLP width as a multiple of the token width (2)
          --data    folder with train/t10k images and labels in IDX format (optionally .gz), or an image folder
                    (one sub-folder per class, the Model Builder layout; with train/ and test/ sub-folders of that layout,
                    those are the split); default: the MNIST cache of build/setup.sh ($BLOCKSPARSE_DATA or ~/.cache/blocksparse/mnist)
          --block   one shape for every layer, or one per layer (hidden layers, then output; 'auto' chooses that layer's); default: chosen per layer
          --l1      λ1 at the start (weight of the L1 penalty on block gates; more gives more zero blocks)
          --method  kronecker (default) or a baseline: dense, or grouplasso (dense training, block penalty, then pruning)
          --search  let λ2 choose each layer's block shape among automatic candidates (small, balanced, large blocks)
          --candidates  candidate shapes per layer for λ2, '/' between candidates and ',' between layers, e.g. 6x14/15x28,10x15/5x10,1x10
          --shape-lambda  λ2 at the start (group penalty over candidate block shapes)
          --decide-after  the search keeps each layer's strongest candidate after N epochs and trains it alone (default 1; 0: λ2 decides alone)
          --search-flops  the search's candidates are the shapes within F of each layer's dense FLOPs (e.g. 0.05) allowing the highest weight rank
          --group-lasso  λ of the grouplasso baseline; --target-sparsity prunes its smallest blocks to that fraction
          --model   where to save the model (default artifacts/mnist-blocksparse.zip); an existing file (model or report) is replaced, and the output says so
          --validation-fraction  hold out this fraction of the training rows and print their accuracy after every epoch
          --patience  stop after N epochs without a better validation accuracy and keep the best epoch (needs --validation-fraction)
          --checkpoint  write a checkpoint to DIR after every epoch (the last two are kept); Ctrl+C stops at the next batch
          --resume  continue from the newest checkpoint in the --checkpoint DIR, with the same options
          --resume-from  continue from this checkpoint file (or the newest in this folder) instead, for example the one before
                    a damaged newest checkpoint; with --checkpoint DIR the run keeps writing checkpoints there
          --caching  memory: copy the training rows into memory once; stream: read (and decode) them again every epoch
                    through a shuffle buffer, for data larger than memory; auto (default): memory when they fit in 2 GiB
          --shuffle-buffer  rows in the streaming shuffle buffer (default 16384)
          image folders only:
          --test-fraction  share of each class held out for testing when there are no train/ and test/ folders (default 0.2; split with --seed)
          --image-size     resize every image to WxH, scaled to cover it and centre-cropped (default: the size of the first
                           training image, scaled down to at most 64 pixels a side)
          --channels       1 = grayscale, 3 = RGB (default: 1 if the first training image is grey, else 3)
          --skip-bad-images  leave out files that are not complete, decodable images (and say how many, and which),
                           instead of stopping at the first one
        """;

    private static readonly HashSet<string> ValueOptions =
        ["--data", "--epochs", "--rank", "--block", "--hidden", "--seed", "--device", "--l1", "--l1-increment", "--lr", "--lr-schedule", "--batch",
         "--train-rows", "--test-rows", "--model", "--report", "--validation-fraction", "--patience", "--checkpoint", "--resume-from",
         "--method", "--candidates", "--shape-lambda", "--shape-lambda-increment", "--decide-after", "--search-flops", "--group-lasso", "--target-sparsity",
         "--test-fraction", "--image-size", "--channels", "--architecture", "--caching", "--shuffle-buffer",
         "--patch", "--vit-dim", "--vit-depth", "--vit-heads", "--vit-mlp-ratio"];

    private static readonly HashSet<string> Flags = ["--resume", "--search", "--skip-bad-images"];

    /// <summary>Exit code after Ctrl+C, as shells report a process ended by SIGINT (128 + 2).</summary>
    public const int CancelledExitCode = 130;

    public static int Run(IEnumerable<string> args)
    {
        var cl = new CommandLine(args, ValueOptions, Flags);
        var dataFolder = cl.Text("--data") ?? DataLocation.DefaultMnistFolder;
        var modelPath = Path.GetFullPath(cl.Text("--model") ?? Path.Combine("artifacts", "mnist-blocksparse.zip"));
        var reportPath = cl.Text("--report") is { } r ? Path.GetFullPath(r) : null;
        var options = ParseOptions(cl);
        // Before training: a target that cannot be written would otherwise be found only at the end.
        OutputTarget.File(modelPath, "--model", "the model to (FILE.zip)");
        if (reportPath is not null)
            OutputTarget.File(reportPath, "--report", "the report to (FILE.json)");
        if (options.CheckpointDirectory is { } checkpointDirectory)
            OutputTarget.Folder(checkpointDirectory, "--checkpoint", "the checkpoints");

        if (!Directory.Exists(dataFolder) && cl.Text("--data") is null)
            throw new UsageException($"No --data given and the MNIST cache '{dataFolder}' does not exist: run build/setup.sh first.");

        Console.WriteLine($"Reading {dataFolder}");
        var mlContext = new MLContext(options.Seed);
        var data = ReadData(cl, mlContext, dataFolder, options.Seed);
        Console.WriteLine(data.Description);
        if (data.SkippedImages.Count > 0)
        {
            Console.WriteLine($"Skipped {data.SkippedImages.Count} bad image files (--skip-bad-images):");
            foreach (var bad in data.SkippedImages.Take(10))
                Console.WriteLine($"  {bad.Reason}");
            if (data.SkippedImages.Count > 10)
                Console.WriteLine($"  ... and {data.SkippedImages.Count - 10} more");
        }
        Console.WriteLine($"{data.TrainRows} training rows, {data.TestRows} test rows, {data.Shape.Length} features (image {data.Shape}, channels x height x width)");

        options.FeatureColumnName = data.FeatureColumnName;
        options.ImageShape = data.Shape;
        var progress = new ConsoleProgress();
        options.Progress = progress;
        var pipeline = data.Featurize
            .Append(mlContext.Transforms.Conversion.MapValueToKey("Label"))
            .Append(mlContext.MulticlassClassification.Trainers.BlockSparse(options));
        var (train, test) = (data.Train, data.Test);

        if (options.ResumeFrom is not null)
        {
            Console.WriteLine(File.Exists(options.ResumeFrom)
                ? $"Resuming from {options.ResumeFrom}"
                : $"Resuming from the newest checkpoint in {options.ResumeFrom}");
        }
        var clock = Stopwatch.StartNew();
        TransformerChain<BlockSparseModel> chain;
        using (var cancellation = new CtrlC())
        {
            options.CancellationToken = progress.Cancellation = cancellation.Token;
            try
            {
                chain = data.NamingBadImages(() => pipeline.Fit(train));
            }
            catch (OperationCanceledException) when (cancellation.Token.IsCancellationRequested)
            {
                Console.Error.WriteLine(CancelledMessage(options.CheckpointDirectory));
                return CancelledExitCode;
            }
        }
        using var model = chain.LastTransformer;
        Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F1} s"
            + (model.KeptEpoch != model.History[^1].Epoch ? $"; kept the weights of epoch {model.KeptEpoch} (best validation accuracy)" : ""));

        var metrics = data.NamingBadImages(() => mlContext.MulticlassClassification.Evaluate(chain.Transform(test)));
        Console.WriteLine();
        Console.WriteLine($"Test metrics ({data.TestRows} rows)");
        Console.WriteLine($"  micro accuracy  {metrics.MicroAccuracy:P2}");
        Console.WriteLine($"  macro accuracy  {metrics.MacroAccuracy:P2}");
        Console.WriteLine($"  log loss        {metrics.LogLoss:F4}");
        Console.WriteLine();
        Console.WriteLine("Sparsity report (against the dense network of the same layer sizes)");
        Console.Write(model.Report.ToTable());

        // Image models end as Model Builder's do, with the predicted key mapped back to the class name,
        // so an application reads PredictedLabel as text (see MnistModel). IDX models keep the key for `predict`.
        ITransformer saved = data.FromImageFiles
            ? chain.Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(chain.Transform(train)))
            : chain;
        long modelBytes = OutputFile.Write(modelPath, temporary => mlContext.Model.Save(saved, train.Schema, temporary));
        Console.WriteLine();
        Console.WriteLine($"Model saved: {modelPath} ({modelBytes:N0} bytes; ONNX network {model.OnnxModelBytes:N0} bytes)");

        if (reportPath is not null)
        {
            var json = model.Report.ToJson(new Dictionary<string, object?>
            {
                ["microAccuracy"] = metrics.MicroAccuracy,
                ["macroAccuracy"] = metrics.MacroAccuracy,
                ["logLoss"] = metrics.LogLoss,
                ["secondsPerEpoch"] = model.History.Average(h => h.Seconds),
                ["modelBytes"] = modelBytes,
                ["epochs"] = model.History.Count,
                ["trainRows"] = data.TrainRows,
                ["testRows"] = data.TestRows,
            });
            OutputFile.Write(reportPath, temporary => File.WriteAllText(temporary, json));
            Console.WriteLine($"Report written: {reportPath}");
        }
        return 0;
    }

    private static TrainingData ReadData(CommandLine cl, MLContext mlContext, string dataFolder, int seed)
    {
        int? trainRows = cl.Int("--train-rows", min: 1), testRows = cl.Int("--test-rows", min: 1);
        if (!TrainingData.IsImageFolder(dataFolder))
        {
            foreach (var imageOnly in new[] { "--test-fraction", "--image-size", "--channels", "--skip-bad-images" })
            {
                if (cl.Has(imageOnly))
                    throw new UsageException($"{imageOnly} applies to image folders; '{dataFolder}' is an IDX data set.");
            }
            return TrainingData.FromIdx(mlContext, dataFolder, trainRows, testRows);
        }

        double testFraction = cl.Double("--test-fraction", min: 0) ?? 0.2;
        if (testFraction is <= 0 or >= 1)
            throw new UsageException($"--test-fraction must be greater than 0 and less than 1; got {testFraction.ToString(CultureInfo.InvariantCulture)}.");
        int? channels = cl.Int("--channels", min: 1);
        if (channels is not (null or 1 or 3))
            throw new UsageException($"--channels must be 1 (grayscale) or 3 (RGB); got {channels}.");
        (int, int)? size = null;
        if (cl.Text("--image-size") is { } text)
        {
            try
            {
                var parsed = BlockShape.Parse(text);   // the same "AxB" syntax
                size = (parsed.Rows, parsed.Columns);
            }
            catch (FormatException)
            {
                throw new UsageException($"--image-size must be WIDTHxHEIGHT in pixels, for example 28x28; got '{text}'.");
            }
        }
        return TrainingData.FromImageFolder(mlContext, dataFolder, size, channels, testFraction, seed, trainRows, testRows, cl.Has("--skip-bad-images"));
    }

    private static BlockSparseTrainer.Options ParseOptions(CommandLine cl)
    {
        var options = new BlockSparseTrainer.Options();
        if (cl.Int("--epochs", min: 1) is { } epochs) options.Epochs = epochs;
        if (cl.Int("--rank", min: 1) is { } rank) options.Rank = rank;
        if (cl.Int("--seed", min: 0) is { } seed) options.Seed = seed;
        if (cl.IntList("--hidden", min: 1) is { } hidden) options.HiddenLayers = hidden;
        if (cl.Double("--l1", min: 0) is { } l1) options.L1Start = l1;
        if (cl.Double("--l1-increment", min: 0) is { } l1Increment) options.L1Increment = l1Increment;
        if (cl.Double("--lr", min: double.Epsilon) is { } lr) options.LearningRate = lr;
        if (cl.Int("--batch", min: 1) is { } batch) options.BatchSize = batch;
        if (cl.Int("--shuffle-buffer", min: 1) is { } buffer) options.ShuffleBufferRows = buffer;
        if (cl.Text("--caching") is { } caching)
        {
            options.DataCaching = caching.ToLowerInvariant() switch
            {
                "auto" => DataCaching.Auto,
                "memory" => DataCaching.Memory,
                "stream" => DataCaching.Stream,
                _ => throw new UsageException($"--caching must be auto, memory or stream; got '{caching}'."),
            };
        }
        if (cl.Double("--validation-fraction", min: 0) is { } fraction) options.ValidationFraction = fraction;
        if (cl.Int("--patience", min: 0) is { } patience) options.EarlyStoppingPatience = patience;
        if (cl.Text("--checkpoint") is { } checkpoints) options.CheckpointDirectory = Path.GetFullPath(checkpoints);
        if (cl.Has("--resume") && cl.Has("--resume-from"))
            throw new UsageException("--resume and --resume-from both say where to continue from; give one.");
        if (cl.Has("--resume"))
            options.ResumeFrom = options.CheckpointDirectory ?? throw new UsageException("--resume continues from the --checkpoint DIR; give --checkpoint too.");
        if (cl.Text("--resume-from") is { } resumeFrom)
        {
            // A file: a damaged newest checkpoint can be skipped; the library also takes a folder (its newest).
            if (!File.Exists(resumeFrom) && !Directory.Exists(resumeFrom))
                throw new UsageException($"--resume-from '{resumeFrom}' is neither a checkpoint file nor a folder of checkpoints.");
            options.ResumeFrom = Path.GetFullPath(resumeFrom);
        }
        if (cl.Text("--block") is { } block)
        {
            try
            {
                var shapes = block.Split(',', StringSplitOptions.TrimEntries)
                    .Select(s => s.Equals("auto", StringComparison.OrdinalIgnoreCase) ? (BlockShape?)null : BlockShape.Parse(s)).ToArray();
                if (shapes.Length == 1)
                    options.BlockShape = shapes[0];
                else
                    options.LayerBlockShapes = shapes;
            }
            catch (FormatException e)
            {
                throw new UsageException($"--block: {e.Message}");
            }
        }
        if (cl.Double("--shape-lambda", min: 0) is { } shapeLambda) options.ShapeSearchLambdaStart = shapeLambda;
        if (cl.Double("--shape-lambda-increment", min: 0) is { } shapeLambdaIncrement) options.ShapeSearchLambdaIncrement = shapeLambdaIncrement;
        if (cl.Int("--decide-after", min: 0) is { } decideAfter) options.ShapeSearchDecisionEpochs = decideAfter;
        if (cl.Double("--group-lasso", min: 0) is { } groupLasso) options.GroupLassoLambda = groupLasso;
        if (cl.Double("--target-sparsity", min: 0) is { } target) options.TargetBlockSparsity = target;
        options.SearchBlockShapes = cl.Has("--search");
        if (cl.Double("--search-flops", min: 0) is { } searchFlops)
        {
            if (!options.SearchBlockShapes)
                throw new UsageException("--search-flops is the FLOP budget of the block-shape search's candidates; give --search too.");
            options.ShapeSearchFlopFraction = searchFlops;
        }
        if (cl.Text("--candidates") is { } candidates)
        {
            try
            {
                options.CandidateBlockShapes = candidates.Split(',', StringSplitOptions.TrimEntries)
                    .Select(layer => layer.Split('/', StringSplitOptions.TrimEntries).Select(BlockShape.Parse).ToArray()).ToArray();
            }
            catch (FormatException e)
            {
                throw new UsageException($"--candidates: {e.Message}");
            }
        }
        if (cl.Text("--architecture") is { } architecture)
        {
            options.Architecture = architecture.ToLowerInvariant() switch
            {
                "mlp" => NetworkArchitecture.Mlp,
                "lenet5" or "lenet" => NetworkArchitecture.LeNet5,
                "vit" => NetworkArchitecture.VisionTransformer,
                _ => throw new UsageException($"--architecture must be mlp, lenet5 or vit; got '{architecture}'."),
            };
            if (options.Architecture != NetworkArchitecture.Mlp && cl.Text("--hidden") is not null)
                throw new UsageException($"--hidden applies to the mlp architecture; {architecture.ToLowerInvariant()}'s layer sizes are set otherwise.");
        }
        options.VitPatchSize = cl.Int("--patch", min: 1) ?? options.VitPatchSize;
        options.VitDimension = cl.Int("--vit-dim", min: 1) ?? options.VitDimension;
        options.VitDepth = cl.Int("--vit-depth", min: 1) ?? options.VitDepth;
        options.VitHeads = cl.Int("--vit-heads", min: 1) ?? options.VitHeads;
        options.VitMlpRatio = cl.Int("--vit-mlp-ratio", min: 1) ?? options.VitMlpRatio;
        if (options.Architecture != NetworkArchitecture.VisionTransformer
            && new[] { "--patch", "--vit-dim", "--vit-depth", "--vit-heads", "--vit-mlp-ratio" }.FirstOrDefault(o => cl.Text(o) is not null) is { } vitOption)
        {
            throw new UsageException($"{vitOption} applies to --architecture vit only.");
        }
        if (cl.Text("--method") is { } method)
        {
            options.Method = method.ToLowerInvariant() switch
            {
                "kronecker" => BlockSparseMethod.Kronecker,
                "dense" => BlockSparseMethod.Dense,
                "grouplasso" or "group-lasso" => BlockSparseMethod.GroupLasso,
                _ => throw new UsageException($"--method must be kronecker, dense or grouplasso; got '{method}'."),
            };
        }
        if (cl.Text("--lr-schedule") is { } schedule)
        {
            options.LearningRateSchedule = schedule.ToLowerInvariant() switch
            {
                "cosine" => LearningRateSchedule.Cosine,
                "constant" => LearningRateSchedule.Constant,
                _ => throw new UsageException($"--lr-schedule must be cosine or constant; got '{schedule}'."),
            };
        }
        if (cl.Text("--device") is { } device)
        {
            options.Device = device.ToLowerInvariant() switch
            {
                "auto" => ComputeDevice.Auto,
                "cpu" => ComputeDevice.Cpu,
                "cuda" => ComputeDevice.Cuda,
                _ => throw new UsageException($"--device must be auto, cpu or cuda; got '{device}'."),
            };
        }
        return options;
    }

    private static string CancelledMessage(string? checkpointDirectory)
    {
        if (checkpointDirectory is null)
            return "Training cancelled; nothing was saved (with --checkpoint DIR the finished epochs are kept and --resume continues them).";
        var newest = Directory.Exists(checkpointDirectory)
            ? Directory.GetFiles(checkpointDirectory, "epoch-*.bscheckpoint").Select(Path.GetFileName).Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        return newest is null
            ? "Training cancelled before the first epoch finished; no checkpoint was written."
            : $"Training cancelled. The last checkpoint is {newest} in {checkpointDirectory}; run the same command with --resume to continue.";
    }

    /// <summary>
    /// The first Ctrl+C (SIGINT) cancels training at the next batch, so the finished epochs' checkpoints
    /// stay usable; a second one ends the process at once, as usual.
    /// </summary>
    private sealed class CtrlC : IDisposable
    {
        private readonly CancellationTokenSource source = new();

        public CtrlC() => Console.CancelKeyPress += OnCancelKeyPress;

        public CancellationToken Token => source.Token;

        private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
        {
            if (source.IsCancellationRequested)
                return;
            e.Cancel = true;
            Console.Error.WriteLine("Cancelling at the next batch (Ctrl+C again to quit at once)...");
            source.Cancel();
        }

        public void Dispose()
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
            source.Dispose();
        }
    }
}
