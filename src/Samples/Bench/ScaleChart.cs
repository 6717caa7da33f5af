using System.Globalization;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;
using OxyPlot.SkiaSharp;

namespace Samples.Bench;

/// <summary>scale.png: wall-clock ratio against FLOP ratio (both log scale), one line per rank and thread count.</summary>
internal static class ScaleChart
{
    public static void Write(IReadOnlyList<ScaleResult> results, string path)
    {
        var model = new PlotModel { Title = "One training step of a square layer: factored / dense", Background = OxyColors.White };
        model.Axes.Add(new LogarithmicAxis
        {
            Position = AxisPosition.Bottom,
            Title = "FLOP ratio (formula)",
            MajorGridlineStyle = LineStyle.Solid,
            MinorGridlineStyle = LineStyle.Dot,
            MinimumPadding = 0.1,
            MaximumPadding = 0.1,
        });
        model.Axes.Add(new LogarithmicAxis
        {
            Position = AxisPosition.Left,
            Title = "wall-clock ratio (median; < 1: factored faster)",
            MajorGridlineStyle = LineStyle.Solid,
            MinorGridlineStyle = LineStyle.Dot,
            MinimumPadding = 0.1,
            MaximumPadding = 0.1,
        });
        double low = results.Min(r => Math.Min(r.FlopRatio, r.WallRatio)), high = results.Max(r => Math.Max(r.FlopRatio, r.WallRatio));
        var parity = new LineSeries { Title = "wall = FLOP ratio", Color = OxyColors.Gray, LineStyle = LineStyle.Dash };
        parity.Points.Add(new DataPoint(low, low));
        parity.Points.Add(new DataPoint(high, high));
        model.Series.Add(parity);
        var breakEven = new LineSeries { Title = "break-even", Color = OxyColors.DarkGray, LineStyle = LineStyle.Dot };
        breakEven.Points.Add(new DataPoint(results.Min(r => r.FlopRatio), 1));
        breakEven.Points.Add(new DataPoint(results.Max(r => r.FlopRatio), 1));
        model.Series.Add(breakEven);

        var palette = new[] { OxyColors.OrangeRed, OxyColors.RoyalBlue, OxyColors.SeaGreen, OxyColors.Purple, OxyColors.Black };
        int color = 0;
        foreach (var group in results.GroupBy(r => (r.Rank, r.Threads)))
        {
            var series = new LineSeries
            {
                Title = $"rank {group.Key.Rank}, {group.Key.Threads} thread{(group.Key.Threads == 1 ? "" : "s")}",
                Color = palette[color++ % palette.Length],
                MarkerType = MarkerType.Circle,
                MarkerSize = 4,
                // Each point is labelled with its layer width.
                LabelFormatString = "",
            };
            foreach (var r in group.OrderBy(r => r.FlopRatio))
                series.Points.Add(new DataPoint(r.FlopRatio, r.WallRatio));
            model.Series.Add(series);
            foreach (var r in group)
            {
                model.Annotations.Add(new OxyPlot.Annotations.TextAnnotation
                {
                    Text = r.Width.ToString(CultureInfo.InvariantCulture),
                    TextPosition = new DataPoint(r.FlopRatio, r.WallRatio),
                    StrokeThickness = 0,
                    FontSize = 9,
                    TextColor = series.Color,
                });
            }
        }
        model.Legends.Add(new OxyPlot.Legends.Legend { LegendPosition = OxyPlot.Legends.LegendPosition.TopLeft });

        using var stream = File.Create(path);
        new PngExporter { Width = 900, Height = 600 }.Export(model, stream);
    }
}
