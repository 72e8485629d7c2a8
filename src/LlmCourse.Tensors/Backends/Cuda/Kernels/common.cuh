// Shared by every kernel file (prepended before compiling). No toolkit headers: NVRTC 11.8 on a
// machine without the CUDA toolkit has none, so bf16/fp16 are 16-bit integers with our own conversions.
// Conventions: element counts and offsets are 64-bit (i64); tensors are described by a Layout whose
// dims were merged on the host (StridedLayout), operand 0 being the output.

typedef long long i64;
typedef unsigned short u16;

#define MAX_DIMS 8
#define MAX_OPERANDS 4

// Must match CudaLayout in CudaKernelArgs.cs byte for byte.
struct Layout {
    i64 offsets[MAX_OPERANDS];
    int rank;
    int shape[MAX_DIMS];
    int strides[MAX_OPERANDS][MAX_DIMS];
};

// i / n for a linear index i >= 0 and a dim n > 0: in 32 bits while i fits (a 64-bit division is a long
// software routine on a GPU, several times the cost of a strided element's memory traffic).
__device__ __forceinline__ i64 index_div(i64 i, int n) {
    return i <= 0x7fffffff ? (i64)((unsigned)i / (unsigned)n) : i / n;
}

// Element offset of operand o for the row-major linear index i of the layout's shape.
__device__ __forceinline__ i64 layout_offset(const Layout& L, int o, i64 i) {
    if (L.rank == 1) return L.offsets[o] + i * L.strides[o][0];
    i64 off = L.offsets[o];
    for (int d = L.rank - 1; d > 0; --d) {
        int n = L.shape[d];
        i64 q = index_div(i, n);
        off += (i - q * n) * L.strides[o][d];
        i = q;
    }
    return off + i * L.strides[o][0];
}

// Offsets of the first `count` operands in one pass over the dims.
__device__ __forceinline__ void layout_offsets(const Layout& L, int count, i64 i, i64* out) {
    for (int o = 0; o < count; ++o) out[o] = L.offsets[o];
    if (L.rank == 1) {
        for (int o = 0; o < count; ++o) out[o] += i * L.strides[o][0];
        return;
    }
    for (int d = L.rank - 1; d >= 0; --d) {
        int n = L.shape[d];
        i64 q = d == 0 ? 0 : index_div(i, n);
        i64 r = d == 0 ? i : i - q * n;
        for (int o = 0; o < count; ++o) out[o] += r * L.strides[o][d];
        i = q;
    }
}

#define GRID_STRIDE(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)blockDim.x * gridDim.x)

// The memory-bound element-wise kernels take ILP elements per thread per round and issue all their loads before
// any store: a GPU hides memory latency with bytes in flight, and one 2- or 4-byte load at a time per thread leaves
// most of the bandwidth unused (PyTorch's kernels load 16 bytes a thread for the same reason). A thread's elements
// in the round starting at `first` are first + k * blockDim.x, so each of the ILP loads is coalesced across a warp.
#define ILP 4
#define GRID_STRIDE_ILP(first, n) \
    for (i64 first = (i64)blockIdx.x * blockDim.x * ILP + threadIdx.x; first < (n); first += (i64)blockDim.x * gridDim.x * ILP)
#define ILP_ELEMENT(first, k) ((first) + (i64)(k) * blockDim.x)
// One phase of a round: the statement after it runs for each of this thread's elements k that exist (unrolled).
// A kernel's round is two of them, every load in the first, every store in the second. (A macro: NVRTC 11.8 with
// these options rejects lambdas, so a helper taking the two phases as functions is not an option.)
#define FOR_ILP(first, n, k) _Pragma("unroll") for (int k = 0; k < ILP; ++k) if (ILP_ELEMENT(first, k) < (n))

// ---- 16-bit floats ----------------------------------------------------------------------------
__device__ __forceinline__ float bf16_to_f32(u16 h) { return __uint_as_float(((unsigned)h) << 16); }

// Round to nearest even, NaN kept a quiet NaN: the same bits as HalfConversions.ToBFloat16 on the host.
__device__ __forceinline__ u16 f32_to_bf16(float f) {
    unsigned u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u16)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (u16)(u >> 16);
}

#ifndef SIMT_EMULATION  // the CPU emulator of the tests (tests/.../Cuda/Simt/simt.h) defines these two itself
__device__ __forceinline__ float f16_to_f32(u16 h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }

__device__ __forceinline__ u16 f32_to_f16(float f) { u16 h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f)); return h; }
#endif

// dtype codes: the order of the DType enum (Float32, Int32, BFloat16, Float16).
#define DT_F32 0
#define DT_I32 1
#define DT_BF16 2
#define DT_F16 3

__device__ __forceinline__ float load_as_float(const void* p, int dtype, i64 i) {
    switch (dtype) {
        case DT_F32: return ((const float*)p)[i];
        case DT_I32: return (float)((const int*)p)[i];
        case DT_BF16: return bf16_to_f32(((const u16*)p)[i]);
        default: return f16_to_f32(((const u16*)p)[i]);
    }
}

__device__ __forceinline__ void store_from_float(void* p, int dtype, i64 i, float v) {
    switch (dtype) {
        case DT_F32: ((float*)p)[i] = v; break;
        case DT_I32: ((int*)p)[i] = (int)v; break;  // truncates toward zero; NaN gives 0, out of range saturates
        case DT_BF16: ((u16*)p)[i] = f32_to_bf16(v); break;
        default: ((u16*)p)[i] = f32_to_f16(v); break;
    }
}

// v rounded to the nearest bf16 or fp16 (round to nearest even), as a float; float32 (or any other code) as it is.
__device__ __forceinline__ float round_as(int dtype, float v) {
    return dtype == DT_BF16 ? bf16_to_f32(f32_to_bf16(v)) : dtype == DT_F16 ? f16_to_f32(f32_to_f16(v)) : v;
}

__device__ __forceinline__ float nan_f() { return __int_as_float(0x7fffffff); }
__device__ __forceinline__ float inf_f() { return __int_as_float(0x7f800000); }

// ---- block reductions (blockDim.x a multiple of 32, at most 1024) ------------------------------
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Every thread gets the block's sum; the order of additions is fixed by the block size (deterministic).
__device__ float block_sum(float v, float* scratch /* 32 floats */) {
    v = warp_sum(v);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.f;
    return warp_sum(v);
}

// Max that propagates NaN (fmaxf would drop it), like the host's TensorPrimitives.Max.
__device__ __forceinline__ float max_nan(float a, float b) { return (a != a || b != b) ? nan_f() : fmaxf(a, b); }

__device__ float block_max(float v, float* scratch) {
    for (int o = 16; o > 0; o >>= 1) v = max_nan(v, __shfl_xor_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : -inf_f();
    for (int o = 16; o > 0; o >>= 1) v = max_nan(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// ---- deferred checks (CudaDeviceAsserts.cs) ----------------------------------------------------
// The device's error slot, byte for byte: the launch that failed first, its check (the message's id on
// the host), and its first failure packed as position << 32 | value, so atomicMin keeps the lowest position.
// One tensor of a multi-tensor launch (CudaBackend.Spans): its address, its length, and the first of the blocks the
// launch gives it (in increasing order). A block finds its tensor by binary search, then strides over it exactly as
// a launch of that tensor alone with `blocks` blocks would.
struct TensorSpan {
    i64 address, n, firstBlock;
};

// (Any table whose entries have an increasing firstBlock: TensorSpan, adam.cu's AdamSpan.)
template <class Span>
__device__ __forceinline__ int span_of_block(const Span* spans, int count) {
    int lo = 0, hi = count - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (spans[mid].firstBlock <= (i64)blockIdx.x) lo = mid; else hi = mid - 1;
    }
    return lo;
}

// This block's index within its tensor, and how many blocks the tensor has.
template <class Span>
__device__ __forceinline__ void span_blocks(const Span* spans, int count, int s, i64* local, i64* blocks) {
    *local = (i64)blockIdx.x - spans[s].firstBlock;
    *blocks = (s + 1 < count ? spans[s + 1].firstBlock : (i64)gridDim.x) - spans[s].firstBlock;
}

struct ErrorSlot {
    int launch;
    int check;
    unsigned long long first;
};

// Records a failure of check `check` in launch `launch` unless an earlier launch already failed (the
// stream runs launches in order, so a claimed slot belongs to an earlier one, or to this one).
__device__ __forceinline__ void report_failure(ErrorSlot* slot, int launch, int check, i64 position, int value) {
    int owner = atomicCAS(&slot->launch, 0, launch);
    if (owner != 0 && owner != launch) return;
    slot->check = check;  // every failing thread of the launch writes the same value
    atomicMin(&slot->first, ((unsigned long long)position << 32) | (unsigned)value);
}

// ---- attention (attention.cu, attention_mma.cu) ------------------------------------------------
// The eight operands of fused attention (0 q, 1 k, 2 v, 3 output, 4 gradOutput, 5 gq, 6 gk, 7 gv): each
// matrix's offset, row distance (ld) and batch strides. Must match CudaAttentionLayout in CudaKernelArgs.cs byte for byte.
struct AttnLayout {
    i64 offsets[8];
    int ld[8];
    int rank;
    int shape[6];
    int strides[8][6];
};

__device__ __forceinline__ i64 matrix_offset(const AttnLayout& L, int operand, i64 b) {
    i64 off = L.offsets[operand];
    for (int d = L.rank - 1; d >= 0; --d) {
        i64 n = L.shape[d];
        i64 q = b / n;
        off += (b - q * n) * L.strides[operand][d];
        b = q;
    }
    return off;
}

// Must match CounterDropout.Keeps bit for bit: the (index + 1)-th SplitMix64 output from seed, its top
// 24 bits as a float in [0, 1) (exact), compared with keep = 1 - dropoutP.
__device__ __forceinline__ bool keeps(unsigned long long seed, unsigned long long index, float keep) {
    unsigned long long z = seed + 0x9E3779B97F4A7C15ull * (index + 1ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * 5.9604644775390625e-8f < keep;
}

// Attention's weight (b, i, j) of a [batch, T, S] stack of weights.
__device__ __forceinline__ bool kept(unsigned long long seed, i64 b, int T, int S, int i, int j, float keep) {
    return keeps(seed, (unsigned long long)(((i64)b * T + i) * (i64)S + j), keep);
}
