namespace Microsoft.ML.BlockSparse;

/// <summary>Where training runs.</summary>
public enum ComputeDevice
{
    /// <summary>A CUDA GPU when TorchSharp sees one, otherwise the CPU.</summary>
    Auto,

    /// <summary>The CPU.</summary>
    Cpu,

    /// <summary>A CUDA GPU; fails with a clear message when TorchSharp has no CUDA device.</summary>
    Cuda,
}
