namespace LlmCourse.Tensors;

/// <summary>A CUDA, NVRTC or cuBLAS call failed, or a CUDA library is missing; the message names the call and CUDA's own words.</summary>
public sealed class CudaException(string message, Exception? inner = null) : Exception(message, inner);
