namespace Samples.Bench;

/// <summary>One method's row of the benchmark (and one object of bench.json).</summary>
internal sealed record BenchResult
{
    public required string Method { get; init; }

    /// <summary>The network (Mlp or LeNet5); a row's ratios are against the first row of the same architecture.</summary>
    public string Architecture { get; init; } = nameof(Microsoft.ML.BlockSparse.NetworkArchitecture.Mlp);
    public required double TestAccuracy { get; init; }
    public required double BlockSparsity { get; init; }
    public required long TrainableParameters { get; init; }
    public required long DenseParameters { get; init; }

    /// <summary>Training FLOPs of the whole run (every epoch over every row, 3 × forward).</summary>
    public required long TrainingFlops { get; init; }

    /// <summary>The dense network's training FLOPs for the same rows and epochs.</summary>
    public required long DenseTrainingFlops { get; init; }

    /// <summary>
    /// Inference FLOPs per row of the model, zero blocks skipped (the report's figure, which the exported ONNX
    /// model does: it holds only the live input groups and non-zero blocks).
    /// </summary>
    public required long InferenceFlopsPerExample { get; init; }

    public required double SecondsPerEpoch { get; init; }

    /// <summary>Peak resident memory of the process while this method trained, evaluated and was saved.</summary>
    public required long PeakWorkingSetBytes { get; init; }

    public required long ModelBytes { get; init; }

    /// <summary>Rows per second of the loaded zip through <c>Transform</c> over the whole test set.</summary>
    public required double TransformRowsPerSecond { get; init; }

    /// <summary>Rows per second of the loaded zip through a <c>PredictionEngine</c>, one row at a time.</summary>
    public required double PredictionEngineRowsPerSecond { get; init; }

    public required IReadOnlyList<string?> ChosenBlockShapes { get; init; }
    public required int Epochs { get; init; }
    public required int TrainRows { get; init; }
    public required int TestRows { get; init; }
}
