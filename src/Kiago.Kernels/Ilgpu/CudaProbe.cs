using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;

namespace Kiago.Kernels.Ilgpu;

/// <summary>Explains why ILGPU sees no CUDA device (ILGPU itself silently lists none).</summary>
static class CudaProbe
{
    static readonly string[] DriverLibraries = OperatingSystem.IsWindows()
        ? ["nvcuda.dll"]
        : ["libcuda.so.1", "libcuda.so"];

    public static string WhyNoDevice()
    {
        if (!DriverLibraries.Any(CanLoad))
            return $"the NVIDIA driver library ({string.Join(" / ", DriverLibraries)}) could not be loaded: " +
                   "no NVIDIA driver is installed, or it is not on the library path";
        try
        {
            var api = CudaAPI.CurrentAPI;
            if (!api.Init())
                return "the NVIDIA driver library is installed but cuInit failed: the kernel module may not be " +
                       "loaded, or no GPU is visible to this process (container without --gpus?)";
            var count = api.GetDeviceCount(out int devices);
            if (count != CudaError.CUDA_SUCCESS)
                return $"cuDeviceGetCount failed with {count} ({api.GetErrorString(count)})";
            return devices == 0
                ? "the NVIDIA driver is loaded but reports 0 CUDA devices"
                : $"the driver reports {devices} device(s) but ILGPU accepted none (unsupported compute capability?)";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or InvalidOperationException)
        {
            return $"the CUDA driver API could not be used: {e.GetBaseException().Message}";
        }
    }

    static bool CanLoad(string library)
    {
        if (!NativeLibrary.TryLoad(library, out var handle)) return false;
        NativeLibrary.Free(handle);
        return true;
    }
}
