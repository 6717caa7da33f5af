namespace Microsoft.ML.BlockSparse;

/// <summary>How the learning rate changes over training.</summary>
public enum LearningRateSchedule
{
    /// <summary>The same learning rate in every step.</summary>
    Constant,

    /// <summary>
    /// Cosine decay from the learning rate to zero over all steps of the run: large steps early, fine
    /// ones at the end, with no extra setting to tune.
    /// </summary>
    Cosine,
}

internal static class LearningRateScheduleExtensions
{
    public static double At(this LearningRateSchedule schedule, double peak, long step, long totalSteps) => schedule switch
    {
        LearningRateSchedule.Cosine => peak * 0.5 * (1 + Math.Cos(Math.PI * step / Math.Max(1, totalSteps))),
        _ => peak,
    };
}
