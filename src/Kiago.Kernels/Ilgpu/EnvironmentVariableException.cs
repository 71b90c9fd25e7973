namespace Kiago.Kernels.Ilgpu;

/// <summary>An environment variable the engine reads (e.g. KIAGO_ILGPU_GEMM) has a value it does not know; the message names both.</summary>
public sealed class EnvironmentVariableException(string message) : InputException(message);
