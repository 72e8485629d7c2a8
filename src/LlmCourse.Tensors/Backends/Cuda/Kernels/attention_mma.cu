// Fused attention on tensor cores, for autocast: q, k, v and gradOutput are rounded to bf16 or fp16 as they
// are read, and the results (output, dq, dk, dv) as they are written, so autocast makes no rounded copies:
// FlashAttention-2's scheme with mma.sync.m16n8k16 (16-bit inputs, float32 accumulation).
// Forward: a block of 4 warps owns 64 query rows (16 per warp); K and V stream through shared memory in
// tiles; S = Q K^T, an online softmax in float32 registers (running max m and sum l per row), O += P V,
// with P rounded to 16 bits for the product (as FlashAttention does). Backward recomputes P from the saved
// log-sum-exp: one kernel for dq (a warp per 16 query rows), one for dk and dv (a warp per 16 key rows), so
// every gradient is written by one warp, with no atomics, and runs repeat bit for bit. Dropout draws the
// same entries as attention.cu and the CPU (CounterDropout's hash of (seed, (b T + i) S + j)).
// Head sizes are padded with zeros to HEAD (64 or 128), a multiple of the 16 the products step over.
// attention.cu (float32 CUDA cores) stays the kernel for float32 inputs.
// An operand whose block already holds the kernel's 16-bit format (a float32 tensor held in 16 bits, an autocast
// product's result: CudaStorage.HeldAs) is read as it is, and a fresh result can be stored that way: the `held`
// bits (HELD_Q ...) say which. The others are float32 blocks, read and written as floats.
//
// mma.m16n8k16 fragments (PTX ISA, "Matrix Fragments for mma.m16n8k16 with floating point type"),
// g = lane / 4, t = lane % 4, two 16-bit values per register, the lower column (A) or row (B) in the low half:
//   A 16x16: a0 (row g, cols 2t, 2t+1), a1 (row g+8, same cols), a2 (row g, cols 2t+8, 2t+9), a3 (row g+8, same)
//   B 16x8:  b0 (rows 2t, 2t+1, col g), b1 (rows 2t+8, 2t+9, col g)
//   C 16x8:  c0, c1 (row g, cols 2t, 2t+1), c2, c3 (row g+8, cols 2t, 2t+1)
// The accumulators of two adjacent 8-column tiles are exactly an A fragment's rows and columns, so P (and dS)
// go from one product into the next without leaving registers.

#ifndef SIMT_EMULATION
__device__ __forceinline__ void mma_16816_bf16(float* d, const unsigned* a, const unsigned* b) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void mma_16816_f16(float* d, const unsigned* a, const unsigned* b) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
#endif

#define MMA_WARPS 4
#define MMA_ROWS 64   // query rows (forward, dq) or key rows (dk, dv) per block: 16 per warp

template <bool F16> __device__ __forceinline__ u16 to_half(float x) { return F16 ? f32_to_f16(x) : f32_to_bf16(x); }

// Which operands' blocks hold the kernel's 16-bit format (the `held` parameter's bits).
#define HELD_Q 1
#define HELD_K 2
#define HELD_V 4
#define HELD_DO 8
#define HELD_O 16
#define HELD_DQ 32
#define HELD_DK 64
#define HELD_DV 128

// Element i of an input as the kernel's 16-bit value: a float rounded to nearest even, or the bits of a held block.
template <bool F16> __device__ __forceinline__ u16 half_at(const void* p, bool held, i64 i) {
    return held ? ((const u16*)p)[i] : to_half<F16>(((const float*)p)[i]);
}

// A result as autocast stores it: rounded to the kernel's 16-bit format, kept as a float.
template <bool F16> __device__ __forceinline__ float rounded(float x) { return F16 ? f16_to_f32(f32_to_f16(x)) : bf16_to_f32(f32_to_bf16(x)); }

template <bool F16> __device__ __forceinline__ unsigned pack_half2(float lo, float hi) {
    return (unsigned)to_half<F16>(lo) | ((unsigned)to_half<F16>(hi) << 16);
}

// A result stored as autocast stores it: the 16-bit value in a held block, or rounded and kept as a float.
template <bool F16> __device__ __forceinline__ void put_result(void* p, bool held, i64 i, float x) {
    if (held) ((u16*)p)[i] = to_half<F16>(x);
    else ((float*)p)[i] = rounded<F16>(x);
}

template <bool F16> __device__ __forceinline__ void mma_16816(float* d, const unsigned* a, const unsigned* b) {
    if (F16) mma_16816_f16(d, a, b); else mma_16816_bf16(d, a, b);
}

// rows x HEAD of a row-major matrix (element `base` of src, rows `ld` apart) into shared memory as 16-bit values,
// row stride HEAD + 8 (the padding spreads the fragment reads over all banks); rows past `total` and columns past
// `width` are 0 (the same bits in both formats).
// A row that fills the tile (width == HEAD, the model's head sizes 64 and 128) and starts 16-byte aligned goes 8
// columns a thread at a time: one 16-byte load of a held block (two of floats) and one 16-byte store, where an element
// at a time would issue 8 loads, 8 stores and their index arithmetic; the tile loads are most of the instructions
// these kernels issue besides the products. Any other operand takes the element loop; both store the same bits.
// (uint4 and float4: CUDA's 16-byte vector types, which NVRTC knows without a header.)
template <bool F16, int HEAD>
__device__ __forceinline__ void load_tile(u16* dst, const void* src, bool held, i64 base, int ld, int first, int rows, int total,
                                          int width) {
    const char* row0 = (const char*)src + base * (held ? 2 : 4);
    if (width == HEAD && (ld & 7) == 0 && ((unsigned long long)row0 & 15) == 0) {
        for (int idx = threadIdx.x; idx < rows * (HEAD / 8); idx += blockDim.x) {
            const int r = idx / (HEAD / 8), c = (idx - r * (HEAD / 8)) * 8;
            uint4 v = {0u, 0u, 0u, 0u};
            if (first + r < total) {
                const i64 at = base + (i64)(first + r) * ld + c;
                if (held) v = *(const uint4*)((const u16*)src + at);
                else {
                    const float4* f = (const float4*)((const float*)src + at);
                    const float4 lo = f[0], hi = f[1];
                    v.x = pack_half2<F16>(lo.x, lo.y);
                    v.y = pack_half2<F16>(lo.z, lo.w);
                    v.z = pack_half2<F16>(hi.x, hi.y);
                    v.w = pack_half2<F16>(hi.z, hi.w);
                }
            }
            *(uint4*)(dst + r * (HEAD + 8) + c) = v;
        }
        return;
    }
    for (int idx = threadIdx.x; idx < rows * HEAD; idx += blockDim.x) {
        const int r = idx / HEAD, c = idx - r * HEAD;
        dst[r * (HEAD + 8) + c] = first + r < total && c < width ? half_at<F16>(src, held, base + (i64)(first + r) * ld + c) : (u16)0;
    }
}

// The A fragments of rows r0 .. r0+15 of a row-major matrix in global memory (element `base` of m), all HEAD/16
// column steps.
template <bool F16, int HEAD>
__device__ __forceinline__ void load_a(unsigned (&a)[HEAD / 16][4], const void* m, bool held, i64 base, int ld, int r0, int total,
                                       int width) {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int r[2] = {r0 + g, r0 + g + 8};
#pragma unroll
    for (int s = 0; s < HEAD / 16; ++s)
#pragma unroll
        for (int h = 0; h < 4; ++h) {
            const int row = r[h & 1], c = 16 * s + 2 * t + (h >> 1) * 8;
            const i64 at = base + (i64)row * ld + c;
            const bool in = row < total;
            const u16 lo = in && c < width ? half_at<F16>(m, held, at) : (u16)0;
            const u16 hi = in && c + 1 < width ? half_at<F16>(m, held, at + 1) : (u16)0;
            a[s][h] = (unsigned)lo | ((unsigned)hi << 16);
        }
}

// B fragments come out of shared memory by ldmatrix (sm_75+): one instruction gives a warp four 8x8 matrices of
// 16-bit values, lane 8 m + r naming the address of row r of matrix m (16 bytes, 16-byte aligned), lane 4 r + w
// receiving word w of row r of matrix m in register m; with .trans, word w of row r of the transposed matrix (rows
// 2w and 2w+1 of column r, the lower row in the low half). Those are exactly mma's B fragments: four registers are
// the fragments of two adjacent 8-column tiles, where reading them element by element took 8 to 16 loads of shared
// memory (which, not the tensor cores, then bounds these loops). The padded row stride (HEAD + 8 values, 16 bytes
// past a multiple of 128) puts the 8 rows one ldmatrix phase reads in 8 different bank quads.
#ifndef SIMT_EMULATION
__device__ __forceinline__ unsigned shared_address(const void* p) {
    unsigned a;
    asm("{ .reg .u64 s; cvta.to.shared.u64 s, %1; cvt.u32.u64 %0, s; }" : "=r"(a) : "l"(p));
    return a;
}

__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], const u16* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(row)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], const u16* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(row)));
}
#endif

// B fragments of 8-column tiles n0 and n0 + 8 (b[0], b[1]) at k-step k0, from a tile stored as M[n][k] (k contiguous:
// K^T for S = Q K^T, V^T for dP = dO V^T): b0 = (k 2t, 2t+1; n g) is word t of row g of the 8x8 matrix at (n0, k0).
// Matrices: 0 (n0, k0), 1 (n0, k0 + 8), 2 (n0 + 8, k0), 3 (n0 + 8, k0 + 8).
template <int HEAD>
__device__ __forceinline__ void b_along_pair(unsigned (&b)[2][2], const u16* tile, int n0, int k0) {
    const int lane = threadIdx.x & 31, m = lane >> 3, r = lane & 7;
    unsigned x[4];
    ldmatrix_x4(x, tile + (n0 + r + (m >> 1) * 8) * (HEAD + 8) + k0 + (m & 1) * 8);
    b[0][0] = x[0]; b[0][1] = x[1];
    b[1][0] = x[2]; b[1][1] = x[3];
}

// The same from a tile stored as M[k][n] (n contiguous: V for O += P V, K for dQ += dS K, dO and Q for dV and dK):
// b0 = (k 2t, 2t+1; n g) is word t of row g of the transposed 8x8 matrix at (k0, n0).
// Matrices: 0 (k0, n0), 1 (k0 + 8, n0), 2 (k0, n0 + 8), 3 (k0 + 8, n0 + 8).
template <int HEAD>
__device__ __forceinline__ void b_across_pair(unsigned (&b)[2][2], const u16* tile, int k0, int n0) {
    const int lane = threadIdx.x & 31, m = lane >> 3, r = lane & 7;
    unsigned x[4];
    ldmatrix_x4_trans(x, tile + (k0 + r + (m & 1) * 8) * (HEAD + 8) + n0 + (m >> 1) * 8);
    b[0][0] = x[0]; b[0][1] = x[1];
    b[1][0] = x[2]; b[1][1] = x[3];
}

// Accumulators of 8-column tiles 2c and 2c+1 as the A fragment of k-step c (see the layout above).
template <bool F16>
__device__ __forceinline__ void acc_as_a(unsigned (&a)[4], const float* lo, const float* hi) {
    a[0] = pack_half2<F16>(lo[0], lo[1]);
    a[1] = pack_half2<F16>(lo[2], lo[3]);
    a[2] = pack_half2<F16>(hi[0], hi[1]);
    a[3] = pack_half2<F16>(hi[2], hi[3]);
}

// The two products every kernel here is made of, for one tile in shared memory:
// acc[j] = A B_j^T over the tile's 8-row groups j (S = Q K^T, dP = dO V^T and their transposes): A's 16 rows in
// registers, all HEAD / 16 k-steps; the tile stored [row][HEAD] (the rows are the product's columns).
template <bool F16, int HEAD, int TILE>
__device__ __forceinline__ void product_along(float (&acc)[TILE / 8][4], const unsigned (&a)[HEAD / 16][4], const u16* tile) {
#pragma unroll
    for (int j = 0; j < TILE / 8; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.f;
#pragma unroll
    for (int j = 0; j < TILE / 8; j += 2)
#pragma unroll
        for (int st = 0; st < HEAD / 16; ++st) {
            unsigned f[2][2];
            b_along_pair<HEAD>(f, tile, 8 * j, 16 * st);
            mma_16816<F16>(acc[j], a[st], f[0]);
            mma_16816<F16>(acc[j + 1], a[st], f[1]);
        }
}

// acc += A M for k-step c of the tile (its rows 16c .. 16c + 15, stored [row][HEAD]), A's fragment being the
// accumulators of two earlier 8-column tiles (acc_as_a): O += P V, dQ += dS K, dV += P^T dO, dK += dS^T Q.
template <bool F16, int HEAD>
__device__ __forceinline__ void product_across(float (&acc)[HEAD / 8][4], const unsigned (&a)[4], const u16* tile, int c) {
#pragma unroll
    for (int n = 0; n < HEAD / 8; n += 2) {
        unsigned f[2][2];
        b_across_pair<HEAD>(f, tile, 16 * c, 8 * n);
        mma_16816<F16>(acc[n], a, f[0]);
        mma_16816<F16>(acc[n + 1], a, f[1]);
    }
}

// The softmax runs in base 2, as FlashAttention's does: exp(x) = exp2(x log2 e), and exp2 is the GPU's native
// instruction (expf adds a range reduction around it), so scores are scaled by scale * log2 e (one multiply, or a
// fused multiply-add with the subtracted maximum) and the log-sum-exp is turned back into natural log when stored and
// into base 2 when read. Its cost per score matters here: with the products on tensor cores, the softmax's few
// instructions per score are a large part of what each loop iteration issues.
#define LOG2E 1.4426950408889634f
#define LN2 0.6931471805599453f

// Batches beyond grid y's 65535 go on grid z.
__device__ __forceinline__ i64 mma_batch() { return (i64)blockIdx.z * gridDim.y + blockIdx.y; }

template <bool F16, int HEAD, int TILE>
__device__ void attention_forward_mma(const AttnLayout& L, const void* q, const void* k, const void* v, void* out, float* lse,
                                      int T, int S, int D, int Dv, int causal, float scale, float dropoutP,
                                      unsigned long long seed, i64 batch, int held) {
    extern __shared__ float smem[];
    u16* ks = (u16*)smem;              // [TILE][HEAD + 8]
    u16* vs = ks + TILE * (HEAD + 8);  // [TILE][HEAD + 8]
    const i64 b = mma_batch();
    if (b >= batch) return;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int row0 = (gridDim.x - 1 - blockIdx.x) * MMA_ROWS;   // the longest causal blocks first
    const int wrow = row0 + warp * 16;
    const i64 kb = matrix_offset(L, 1, b), vb = matrix_offset(L, 2, b);
    const float keep = 1.f - dropoutP;
    const float keepScale = dropoutP > 0.f ? 1.f / keep : 1.f;
    const float scaleLog2 = scale * LOG2E;

    unsigned qa[HEAD / 16][4];
    load_a<F16, HEAD>(qa, q, held & HELD_Q, matrix_offset(L, 0, b), L.ld[0], wrow, T, D);
    float o[HEAD / 8][4];
#pragma unroll
    for (int n = 0; n < HEAD / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
    float m[2] = {-inf_f(), -inf_f()}, l[2] = {0.f, 0.f};   // rows g and g+8 (m in base 2); l is this lane's share
    const int rows[2] = {wrow + g, wrow + g + 8};
    const int blockKeys = causal ? min(S, row0 + MMA_ROWS) : S;
    const int warpKeys = causal ? min(S, wrow + 16) : S;

    for (int t0 = 0; t0 < blockKeys; t0 += TILE) {
        __syncthreads();
        load_tile<F16, HEAD>(ks, k, held & HELD_K, kb, L.ld[1], t0, TILE, S, D);
        load_tile<F16, HEAD>(vs, v, held & HELD_V, vb, L.ld[2], t0, TILE, S, Dv);
        __syncthreads();
        if (wrow >= T || t0 >= warpKeys) continue;   // warp-uniform; the warp still joined the barriers

        float s[TILE / 8][4];
        product_along<F16, HEAD, TILE>(s, qa, ks);
        float mx[2] = {-inf_f(), -inf_f()};
#pragma unroll
        for (int j = 0; j < TILE / 8; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int key = t0 + 8 * j + 2 * t + (e & 1), row = rows[e >> 1];
                const bool visible = key < S && (!causal || key <= row);
                s[j][e] = visible ? s[j][e] * scaleLog2 : -inf_f();
                mx[e >> 1] = fmaxf(mx[e >> 1], s[j][e]);
            }
        float corr[2], mUse[2];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
            mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 1));
            mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 2));
            const float mNew = fmaxf(m[h], mx[h]);
            mUse[h] = mNew == -inf_f() ? 0.f : mNew;   // a row with no visible key yet: every p is 0
            corr[h] = exp2f(m[h] - mUse[h]);           // 0 while m is -inf
            m[h] = mNew;
            l[h] *= corr[h];
        }
#pragma unroll
        for (int n = 0; n < HEAD / 8; ++n) {
            o[n][0] *= corr[0]; o[n][1] *= corr[0];
            o[n][2] *= corr[1]; o[n][3] *= corr[1];
        }
#pragma unroll
        for (int j = 0; j < TILE / 8; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const float p = exp2f(s[j][e] - mUse[e >> 1]);
                l[e >> 1] += p;
                float pd = p * keepScale;
                if (dropoutP > 0.f && p != 0.f && !kept(seed, b, T, S, rows[e >> 1], t0 + 8 * j + 2 * t + (e & 1), keep)) pd = 0.f;
                s[j][e] = pd;
            }
#pragma unroll
        for (int c = 0; c < TILE / 16; ++c) {
            unsigned pa[4];
            acc_as_a<F16>(pa, s[2 * c], s[2 * c + 1]);
            product_across<F16, HEAD>(o, pa, vs, c);
        }
    }
    if (wrow >= T) return;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        l[h] += __shfl_xor_sync(0xffffffffu, l[h], 1);
        l[h] += __shfl_xor_sync(0xffffffffu, l[h], 2);
    }
    const i64 ob = matrix_offset(L, 3, b);
#pragma unroll
    for (int n = 0; n < HEAD / 8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int row = rows[e >> 1], col = 8 * n + 2 * t + (e & 1);
            if (row < T && col < Dv) put_result<F16>(out, held & HELD_O, ob + (i64)row * L.ld[3] + col, o[n][e] / l[e >> 1]);
        }
    if (t == 0)
#pragma unroll
        for (int h = 0; h < 2; ++h)
            if (rows[h] < T) lse[b * T + rows[h]] = m[h] * LN2 + logf(l[h]);
}

// dq_i = scale * sum_j ds_ij k_j with ds_ij = p_ij (dp_ij - delta_i), dp_ij = do_i . v_j (masked and rescaled
// by dropout); delta comes from attention.cu's attention_delta.
template <bool F16, int HEAD, int TILE>
__device__ void attention_backward_dq_mma(const AttnLayout& L, const void* q, const void* k, const void* v, const void* gout,
                                          const float* lse, const float* delta, void* gq, int T, int S, int D, int Dv,
                                          int causal, float scale, float dropoutP, unsigned long long seed, i64 batch, int held) {
    extern __shared__ float smem[];
    u16* ks = (u16*)smem;              // [TILE][HEAD + 8]
    u16* vs = ks + TILE * (HEAD + 8);  // [TILE][HEAD + 8]
    const i64 b = mma_batch();
    if (b >= batch) return;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int row0 = (gridDim.x - 1 - blockIdx.x) * MMA_ROWS;
    const int wrow = row0 + warp * 16;
    const i64 kb = matrix_offset(L, 1, b), vb = matrix_offset(L, 2, b);
    const float keep = 1.f - dropoutP;
    const float keepScale = dropoutP > 0.f ? 1.f / keep : 1.f;

    unsigned qa[HEAD / 16][4], da[HEAD / 16][4];
    load_a<F16, HEAD>(qa, q, held & HELD_Q, matrix_offset(L, 0, b), L.ld[0], wrow, T, D);
    load_a<F16, HEAD>(da, gout, held & HELD_DO, matrix_offset(L, 4, b), L.ld[4], wrow, T, Dv);
    const int rows[2] = {wrow + g, wrow + g + 8};
    const float scaleLog2 = scale * LOG2E;
    float rowLse[2], rowDelta[2];   // the log-sum-exp in base 2
#pragma unroll
    for (int h = 0; h < 2; ++h) {
        rowLse[h] = rows[h] < T ? lse[b * T + rows[h]] * LOG2E : 0.f;
        rowDelta[h] = rows[h] < T ? delta[b * T + rows[h]] : 0.f;
    }
    float acc[HEAD / 8][4];
#pragma unroll
    for (int n = 0; n < HEAD / 8; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.f;
    const int blockKeys = causal ? min(S, row0 + MMA_ROWS) : S;
    const int warpKeys = causal ? min(S, wrow + 16) : S;

    for (int t0 = 0; t0 < blockKeys; t0 += TILE) {
        __syncthreads();
        load_tile<F16, HEAD>(ks, k, held & HELD_K, kb, L.ld[1], t0, TILE, S, D);
        load_tile<F16, HEAD>(vs, v, held & HELD_V, vb, L.ld[2], t0, TILE, S, Dv);
        __syncthreads();
        if (wrow >= T || t0 >= warpKeys) continue;

        float s[TILE / 8][4], dp[TILE / 8][4];
        product_along<F16, HEAD, TILE>(s, qa, ks);
        product_along<F16, HEAD, TILE>(dp, da, vs);
#pragma unroll
        for (int j = 0; j < TILE / 8; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int key = t0 + 8 * j + 2 * t + (e & 1), row = rows[e >> 1];
                const bool visible = key < S && (!causal || key <= row);
                const float p = visible ? exp2f(s[j][e] * scaleLog2 - rowLse[e >> 1]) : 0.f;
                float d = dp[j][e] * keepScale;
                if (dropoutP > 0.f && visible && !kept(seed, b, T, S, row, key, keep)) d = 0.f;
                s[j][e] = p * (d - rowDelta[e >> 1]);   // ds
            }
#pragma unroll
        for (int c = 0; c < TILE / 16; ++c) {
            unsigned dsa[4];
            acc_as_a<F16>(dsa, s[2 * c], s[2 * c + 1]);
            product_across<F16, HEAD>(acc, dsa, ks, c);
        }
    }
    if (wrow >= T) return;
    const i64 gb = matrix_offset(L, 5, b);
#pragma unroll
    for (int n = 0; n < HEAD / 8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int row = rows[e >> 1], col = 8 * n + 2 * t + (e & 1);
            if (row < T && col < D) put_result<F16>(gq, held & HELD_DQ, gb + (i64)row * L.ld[5] + col, acc[n][e] * scale);
        }
}

// dv_j = sum_i pd_ij do_i and dk_j = scale * sum_i ds_ij q_i: a warp per 16 key rows, queries in tiles; the
// products are computed transposed (rows = keys), so P^T and dS^T come straight out of the accumulators.
template <bool F16, int HEAD, int TILE>
__device__ void attention_backward_dkdv_mma(const AttnLayout& L, const void* q, const void* k, const void* v, const void* gout,
                                            const float* lse, const float* delta, void* gk, void* gv, int T, int S, int D, int Dv,
                                            int causal, float scale, float dropoutP, unsigned long long seed, i64 batch, int held) {
    extern __shared__ float smem[];
    float* lses = smem;                       // [TILE], in base 2
    float* deltas = lses + TILE;              // [TILE]
    u16* qs = (u16*)(deltas + TILE);          // [TILE][HEAD + 8]
    u16* dos = qs + TILE * (HEAD + 8);        // [TILE][HEAD + 8]
    const i64 b = mma_batch();
    if (b >= batch) return;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int key0 = blockIdx.x * MMA_ROWS;   // causal: the first blocks see the most queries, and start first
    const int wkey = key0 + warp * 16;
    const i64 qb = matrix_offset(L, 0, b), gb = matrix_offset(L, 4, b);
    const float keep = 1.f - dropoutP;
    const float keepScale = dropoutP > 0.f ? 1.f / keep : 1.f;
    const float scaleLog2 = scale * LOG2E;

    unsigned ka[HEAD / 16][4], va[HEAD / 16][4];
    load_a<F16, HEAD>(ka, k, held & HELD_K, matrix_offset(L, 1, b), L.ld[1], wkey, S, D);
    load_a<F16, HEAD>(va, v, held & HELD_V, matrix_offset(L, 2, b), L.ld[2], wkey, S, Dv);
    const int keys[2] = {wkey + g, wkey + g + 8};
    float dk[HEAD / 8][4], dv[HEAD / 8][4];
#pragma unroll
    for (int n = 0; n < HEAD / 8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) dk[n][e] = dv[n][e] = 0.f;
    const int firstQuery = causal ? min(key0, T) : 0;   // query i sees key j only when j <= i

    for (int t0 = firstQuery; t0 < T; t0 += TILE) {
        __syncthreads();
        load_tile<F16, HEAD>(qs, q, held & HELD_Q, qb, L.ld[0], t0, TILE, T, D);
        load_tile<F16, HEAD>(dos, gout, held & HELD_DO, gb, L.ld[4], t0, TILE, T, Dv);
        for (int r = threadIdx.x; r < TILE; r += blockDim.x) {
            lses[r] = t0 + r < T ? lse[b * T + t0 + r] * LOG2E : 0.f;
            deltas[r] = t0 + r < T ? delta[b * T + t0 + r] : 0.f;
        }
        __syncthreads();
        if (wkey >= S || (causal && t0 + TILE <= wkey)) continue;   // warp-uniform: no query here sees these keys

        float s[TILE / 8][4], dp[TILE / 8][4];   // transposed: rows are keys
        product_along<F16, HEAD, TILE>(s, ka, qs);
        product_along<F16, HEAD, TILE>(dp, va, dos);
        float pd[TILE / 8][4];
#pragma unroll
        for (int j = 0; j < TILE / 8; ++j) {
            // This lane's two queries of the tile (columns 2t, 2t + 1): their log-sum-exp and delta in one 8-byte load each.
            const float2 rowLse = *(const float2*)(lses + 8 * j + 2 * t), rowDelta = *(const float2*)(deltas + 8 * j + 2 * t);
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int local = 8 * j + 2 * t + (e & 1), query = t0 + local, key = keys[e >> 1];
                const bool visible = query < T && key < S && (!causal || key <= query);
                const float p = visible ? exp2f(s[j][e] * scaleLog2 - ((e & 1) ? rowLse.y : rowLse.x)) : 0.f;
                const bool dropped = dropoutP > 0.f && visible && !kept(seed, b, T, S, query, key, keep);
                pd[j][e] = dropped ? 0.f : p * keepScale;
                const float d = dropped ? 0.f : dp[j][e] * keepScale;
                s[j][e] = p * (d - ((e & 1) ? rowDelta.y : rowDelta.x));   // ds^T
            }
        }
#pragma unroll
        for (int c = 0; c < TILE / 16; ++c) {
            unsigned pa[4], dsa[4];
            acc_as_a<F16>(pa, pd[2 * c], pd[2 * c + 1]);
            acc_as_a<F16>(dsa, s[2 * c], s[2 * c + 1]);
            product_across<F16, HEAD>(dv, pa, dos, c);
            product_across<F16, HEAD>(dk, dsa, qs, c);
        }
    }
    if (wkey >= S) return;
    const i64 kout = matrix_offset(L, 6, b), vout = matrix_offset(L, 7, b);
#pragma unroll
    for (int n = 0; n < HEAD / 8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const int key = keys[e >> 1], col = 8 * n + 2 * t + (e & 1);
            if (key >= S) continue;
            if (col < D) put_result<F16>(gk, held & HELD_DK, kout + (i64)key * L.ld[6] + col, dk[n][e] * scale);
            if (col < Dv) put_result<F16>(gv, held & HELD_DV, vout + (i64)key * L.ld[7] + col, dv[n][e]);
        }
}

// Entry points: <16-bit format>_<HEAD>. Tiles of 64 keys (queries in dk/dv) for HEAD 64, 32 for HEAD 128
// (registers). Shared memory: 2 * TILE * (HEAD + 8) * 2 bytes (+ 2 * TILE floats for dk/dv), under 48 KiB.
// The forward kernels at HEAD 64 are held to 128 registers a thread (__launch_bounds__: 4 blocks of 128 threads an
// SM, 16 warps to hide the tile loads' latency): ptxas (NVRTC 11.8, sm_90) gives the bf16 one 128 with no spill
// where it took 140 (3 blocks an SM), the fp16 one 128 and 12 bytes of spill. The others would spill hundreds of
// bytes under any tighter bound (dq 166 to 211 registers, 3 blocks; dk/dv 210 to 255, 2 blocks).
#define FORWARD_PARAMS AttnLayout L, const void* q, const void* k, const void* v, void* out, float* lse, int T, int S, \
    int D, int Dv, int causal, float scale, float dropoutP, unsigned long long seed, i64 batch, int held
#define FORWARD_ARGS L, q, k, v, out, lse, T, S, D, Dv, causal, scale, dropoutP, seed, batch, held
#define DQ_PARAMS AttnLayout L, const void* q, const void* k, const void* v, const void* gout, const float* lse, \
    const float* delta, void* gq, int T, int S, int D, int Dv, int causal, float scale, float dropoutP, unsigned long long seed, \
    i64 batch, int held
#define DQ_ARGS L, q, k, v, gout, lse, delta, gq, T, S, D, Dv, causal, scale, dropoutP, seed, batch, held
#define DKDV_PARAMS AttnLayout L, const void* q, const void* k, const void* v, const void* gout, const float* lse, \
    const float* delta, void* gk, void* gv, int T, int S, int D, int Dv, int causal, float scale, float dropoutP, \
    unsigned long long seed, i64 batch, int held
#define DKDV_ARGS L, q, k, v, gout, lse, delta, gk, gv, T, S, D, Dv, causal, scale, dropoutP, seed, batch, held

extern "C" __global__ void __launch_bounds__(MMA_WARPS * 32, 4) attention_forward_mma_bf16_64(FORWARD_PARAMS) { attention_forward_mma<false, 64, 64>(FORWARD_ARGS); }
extern "C" __global__ void attention_forward_mma_bf16_128(FORWARD_PARAMS) { attention_forward_mma<false, 128, 32>(FORWARD_ARGS); }
extern "C" __global__ void __launch_bounds__(MMA_WARPS * 32, 4) attention_forward_mma_f16_64(FORWARD_PARAMS) { attention_forward_mma<true, 64, 64>(FORWARD_ARGS); }
extern "C" __global__ void attention_forward_mma_f16_128(FORWARD_PARAMS) { attention_forward_mma<true, 128, 32>(FORWARD_ARGS); }

extern "C" __global__ void attention_backward_dq_mma_bf16_64(DQ_PARAMS) { attention_backward_dq_mma<false, 64, 64>(DQ_ARGS); }
extern "C" __global__ void attention_backward_dq_mma_bf16_128(DQ_PARAMS) { attention_backward_dq_mma<false, 128, 32>(DQ_ARGS); }
extern "C" __global__ void attention_backward_dq_mma_f16_64(DQ_PARAMS) { attention_backward_dq_mma<true, 64, 64>(DQ_ARGS); }
extern "C" __global__ void attention_backward_dq_mma_f16_128(DQ_PARAMS) { attention_backward_dq_mma<true, 128, 32>(DQ_ARGS); }

extern "C" __global__ void attention_backward_dkdv_mma_bf16_64(DKDV_PARAMS) { attention_backward_dkdv_mma<false, 64, 64>(DKDV_ARGS); }
extern "C" __global__ void attention_backward_dkdv_mma_bf16_128(DKDV_PARAMS) { attention_backward_dkdv_mma<false, 128, 32>(DKDV_ARGS); }
extern "C" __global__ void attention_backward_dkdv_mma_f16_64(DKDV_PARAMS) { attention_backward_dkdv_mma<true, 64, 64>(DKDV_ARGS); }
extern "C" __global__ void attention_backward_dkdv_mma_f16_128(DKDV_PARAMS) { attention_backward_dkdv_mma<true, 128, 32>(DKDV_ARGS); }
