using System.Diagnostics;

namespace Samples.Bench;

/// <summary>
/// How the micro-benchmark modes (<c>--scale</c>, <c>--layers</c>) time several subjects against each other: each is
/// warmed up, its samples sized from one timed step to last about <see cref="SampleMilliseconds"/>, and then every
/// round samples every subject once in turn, so load from elsewhere falls on all of them alike.
/// </summary>
internal static class InterleavedTiming
{
    /// <summary>A sample averages enough steps to last about this long, so timer and scheduler noise stay small.</summary>
    public const double SampleMilliseconds = 25;

    /// <summary>
    /// Two warm-up steps per subject (first-touch allocations, the thread pool), then <paramref name="rounds"/> interleaved
    /// rounds of <paramref name="sample"/>. Returns the steps per sample of each subject, at most <paramref name="maxSteps"/>.
    /// </summary>
    public static int[] Run<T>(IReadOnlyList<T> subjects, Action<T> step, Action<T, int> sample, int rounds, int maxSteps)
    {
        foreach (var s in subjects)
        {
            step(s);
            step(s);
        }
        var steps = subjects.Select(s =>
        {
            var clock = Stopwatch.StartNew();
            step(s);
            return (int)Math.Clamp(Math.Ceiling(SampleMilliseconds / Math.Max(clock.Elapsed.TotalMilliseconds, 1e-3)), 1, maxSteps);
        }).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < subjects.Count; i++)
                sample(subjects[i], steps[i]);
        }
        return steps;
    }
}
