using System.Runtime.InteropServices;

namespace LlmCourse.Tensors.Backends.Cuda.Native;

/// <summary>
/// cuBLAS (<c>libcublas.so.13</c> or <c>.12</c>; <c>.11</c> accepted): the matrix products, through
/// <c>cublasGemmStridedBatchedEx</c>. cuBLAS is column-major, so a row-major C = A B is computed as
/// C^T = B^T A^T, which is the same memory. libcublasLt is loaded first since libcublas depends on it.
/// </summary>
internal static unsafe class Cublas
{
    static readonly string[] Sonames = ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"];
    static readonly string[] LtSonames = ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so"];

    public const int OpN = 0, OpT = 1;
    // cudaDataType
    public const int R32F = 0, R16F = 2, R16BF = 14;
    // cublasComputeType_t
    public const int Compute32F = 68, Compute32FFastTF32 = 77;
    // cublasMath_t
    public const int DefaultMath = 0, TF32TensorOpMath = 3;
    public const int GemmDefault = -1;

    sealed class Api
    {
        public required NativeLibraryHandle Library;
        public NativeLibraryHandle? Lt;
        public required delegate* unmanaged<IntPtr*, int> cublasCreate;
        public required delegate* unmanaged<IntPtr, int> cublasDestroy;
        public required delegate* unmanaged<IntPtr, IntPtr, int> cublasSetStream;
        public required delegate* unmanaged<IntPtr, int, int> cublasSetMathMode;
        public required delegate* unmanaged<IntPtr, int*, int> cublasGetVersion;
        public required delegate* unmanaged<IntPtr, int, int, int, int, int, void*, void*, int, int, long, void*, int, int, long, void*, void*, int, int, long, int, int, int, int> cublasGemmStridedBatchedEx;
        public IntPtr cublasGetStatusName;
        public IntPtr cublasSetWorkspace;
    }

    static string? loadError;
    static readonly Lazy<Api?> api = new(() =>
    {
        var lt = NativeLibraryHandle.TryLoad(LtSonames);
        var lib = NativeLibraryHandle.TryLoad(Sonames);
        if (lib is null)
        {
            loadError = NativeLibraryHandle.Describe("cuBLAS (libcublas)", Sonames,
                "It ships with the CUDA toolkit and the pip package nvidia-cublas; add its folder to the loader's path (ldconfig or LD_LIBRARY_PATH).");
            return null;
        }
        try
        {
            return new Api
            {
                Library = lib,
                Lt = lt,
                cublasCreate = (delegate* unmanaged<IntPtr*, int>)lib.Export("cublasCreate_v2"),
                cublasDestroy = (delegate* unmanaged<IntPtr, int>)lib.Export("cublasDestroy_v2"),
                cublasSetStream = (delegate* unmanaged<IntPtr, IntPtr, int>)lib.Export("cublasSetStream_v2"),
                cublasSetMathMode = (delegate* unmanaged<IntPtr, int, int>)lib.Export("cublasSetMathMode"),
                cublasGetVersion = (delegate* unmanaged<IntPtr, int*, int>)lib.Export("cublasGetVersion_v2"),
                cublasGemmStridedBatchedEx = (delegate* unmanaged<IntPtr, int, int, int, int, int, void*, void*, int, int, long, void*, int, int, long, void*, void*, int, int, long, int, int, int, int>)lib.Export("cublasGemmStridedBatchedEx"),
                cublasGetStatusName = lib.TryExport("cublasGetStatusName"),
                cublasSetWorkspace = lib.TryExport("cublasSetWorkspace_v2"),
            };
        }
        catch (CudaException e)
        {
            loadError = e.Message;
            return null;
        }
    });

    public static bool IsAvailable => api.Value is not null;

    public static string? LoadError => api.Value is null ? loadError : null;

    public static string? LibraryName => api.Value?.Library.Name;

    public static string? LtLibraryName => api.Value?.Lt?.Name;

    static Api A => api.Value ?? throw new CudaException(loadError ?? "cuBLAS could not be loaded.");

    /// <summary>The checked wrapper of every cuBLAS call: the status's name (cublasGetStatusName where it exists).</summary>
    public static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException($"{call} failed: {StatusName(status)}");
    }

    static string StatusName(int status)
    {
        if (api.Value is { cublasGetStatusName: not 0 } a)
        {
            var text = ((delegate* unmanaged<int, byte*>)a.cublasGetStatusName)(status);
            if (text is not null) return $"{Marshal.PtrToStringUTF8((IntPtr)text)} ({status})";
        }
        return status switch
        {
            1 => "CUBLAS_STATUS_NOT_INITIALIZED",
            3 => "CUBLAS_STATUS_ALLOC_FAILED",
            7 => "CUBLAS_STATUS_INVALID_VALUE",
            8 => "CUBLAS_STATUS_ARCH_MISMATCH",
            11 => "CUBLAS_STATUS_MAPPING_ERROR",
            13 => "CUBLAS_STATUS_EXECUTION_FAILED",
            14 => "CUBLAS_STATUS_INTERNAL_ERROR",
            15 => "CUBLAS_STATUS_NOT_SUPPORTED",
            16 => "CUBLAS_STATUS_LICENSE_ERROR",
            _ => $"cuBLAS status {status}",
        } + $" ({status})";
    }

    public static CublasHandle Create(IntPtr stream)
    {
        IntPtr h;
        Check(A.cublasCreate(&h), "cublasCreate_v2");
        var handle = new CublasHandle(h);
        Check(A.cublasSetStream(h, stream), "cublasSetStream_v2");
        return handle;
    }

    internal static int Destroy(IntPtr handle) => A.cublasDestroy(handle);

    public static int Version(CublasHandle handle)
    {
        int v;
        Check(A.cublasGetVersion(handle.DangerousGetHandle(), &v), "cublasGetVersion_v2");
        return v;
    }

    public static void SetMathMode(CublasHandle handle, int mode) =>
        Check(A.cublasSetMathMode(handle.DangerousGetHandle(), mode), "cublasSetMathMode");

    /// <summary>Column-major C[i] = alpha op(A[i]) op(B[i]) + beta C[i] over a batch; alpha, beta float (compute 32F).</summary>
    public static void GemmStridedBatched(CublasHandle handle, int opA, int opB, int m, int n, int k, float alpha,
        ulong a, int aType, int lda, long strideA, ulong b, int bType, int ldb, long strideB, float beta,
        ulong c, int ldc, long strideC, int batch, int computeType, int cType = R32F) =>
        Check(A.cublasGemmStridedBatchedEx(handle.DangerousGetHandle(), opA, opB, m, n, k, &alpha,
            (void*)a, aType, lda, strideA, (void*)b, bType, ldb, strideB, &beta,
            (void*)c, cType, ldc, strideC, batch, computeType, GemmDefault), "cublasGemmStridedBatchedEx");
}

/// <summary>A cuBLAS handle, destroyed when disposed or collected.</summary>
internal sealed class CublasHandle : SafeHandle
{
    public CublasHandle(IntPtr h) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(h);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => Cublas.Destroy(handle) == 0;
}
