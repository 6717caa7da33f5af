using TorchSharp;

namespace Microsoft.ML.BlockSparse.Training;

/// <summary>The torch device a <see cref="ComputeDevice"/> asks for, or a clear error when it is not there.</summary>
internal static class ComputeDeviceResolver
{
    public static torch.Device Resolve(ComputeDevice device) => device switch
    {
        ComputeDevice.Cpu => torch.CPU,
        ComputeDevice.Auto => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        ComputeDevice.Cuda when torch.cuda.is_available() => torch.CUDA,
        ComputeDevice.Cuda => throw new InvalidOperationException(
            "Device = Cuda was requested, but TorchSharp sees no CUDA device. Either the application carries CPU "
            + "natives (libtorch-cpu-*; reference TorchSharp-cuda-linux or TorchSharp-cuda-windows instead) or the "
            + "machine has no usable NVIDIA GPU/driver. Use Device = Auto or Cpu to train on the CPU."),
        _ => throw new ArgumentOutOfRangeException(nameof(device), device, "Device must be Auto, Cpu or Cuda."),
    };
}
