using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;
using OxyPlot.SkiaSharp;

namespace Samples.Bench;

/// <summary>bench.png: test accuracy against training FLOPs (log scale), one point per method, named in the legend.</summary>
internal static class BenchChart
{
    public static void Write(IReadOnlyList<BenchResult> results, string path)
    {
        var model = new PlotModel { Title = "MNIST: accuracy against training cost", Background = OxyColors.White };
        model.Axes.Add(new LogarithmicAxis
        {
            Position = AxisPosition.Bottom,
            Title = "training FLOPs, whole run (log scale)",
            MajorGridlineStyle = LineStyle.Solid,
            MinorGridlineStyle = LineStyle.Dot,
            MinimumPadding = 0.1,
            MaximumPadding = 0.1,
            StringFormat = "0.0e0",
        });
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Left,
            Title = "test accuracy (%)",
            MajorGridlineStyle = LineStyle.Solid,
            MinimumPadding = 0.15,
            MaximumPadding = 0.15,
        });
        var palette = new[] { OxyColors.Black, OxyColors.OrangeRed, OxyColors.RoyalBlue, OxyColors.SeaGreen, OxyColors.Purple };
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var series = new ScatterSeries { Title = r.Method, MarkerType = MarkerType.Circle, MarkerSize = 6, MarkerFill = palette[i % palette.Length] };
            series.Points.Add(new ScatterPoint(r.TrainingFlops, r.TestAccuracy * 100));
            model.Series.Add(series);
        }
        model.Legends.Add(new OxyPlot.Legends.Legend { LegendPosition = OxyPlot.Legends.LegendPosition.BottomCenter, LegendPlacement = OxyPlot.Legends.LegendPlacement.Outside, LegendOrientation = OxyPlot.Legends.LegendOrientation.Horizontal });

        using var stream = File.Create(path);
        new PngExporter { Width = 900, Height = 560 }.Export(model, stream);
    }
}
