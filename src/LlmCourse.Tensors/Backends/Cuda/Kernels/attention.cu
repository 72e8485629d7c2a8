// Fused scaled dot-product attention, flash-attention style: the [T, S] scores are never stored.
// Forward: one warp per query row, keys streamed in tiles of 32 (one key per lane) through shared
// memory, an online softmax (running max m and sum l) rescaling the output accumulator; it keeps the
// output and each row's log-sum-exp. Backward recomputes the probabilities from the log-sum-exp:
// one kernel for dq (a warp per query row), one for dk and dv (a warp per key row), so every gradient
// is written by one warp, with no atomics, and runs repeat bit for bit. Float32 throughout (under
// autocast the inputs arrive rounded to bf16). Head sizes up to 128.
// Dropout: no mask in memory; entry (b, i, j) is kept by a counter-based hash of (seed, (b T + i) S + j),
// SplitMix64's finalizer, the same function as CounterDropout.cs on the CPU, so both backends drop the
// same entries.
// Letters: T queries, S keys, D head size (Dv for values). Operands of AttnLayout: 0 q, 1 k, 2 v,
// 3 output, 4 gradOutput, 5 gq, 6 gk, 7 gv; each matrix at any batch strides, rows ld apart.

#define ROWS 8       // query (or key) rows per block: one warp each
#define TILE 32      // keys (or queries) per tile: one per lane
#define MAX_HEAD 128 // 4 accumulators per lane

// The matrix a block works on: grid y holds at most 65535, so more batches continue on grid z; the grid's
// y * z may pass the batch count (the layout's batch shape), and those blocks have nothing to do.
__device__ __forceinline__ i64 block_batch(const AttnLayout& L) {
    i64 batch = 1;
    for (int d = 0; d < L.rank; ++d) batch *= L.shape[d];
    const i64 b = (i64)blockIdx.z * gridDim.y + blockIdx.y;
    return b < batch ? b : -1;
}

extern "C" __global__ void attention_forward(AttnLayout L, const float* q, const float* k, const float* v, float* out, float* lse,
                                             int T, int S, int D, int Dv, int causal, float scale, float dropoutP,
                                             unsigned long long seed) {
    extern __shared__ float smem[];
    float* qs = smem;                    // [ROWS][D]
    float* ks = qs + ROWS * D;           // [TILE][D + 1] (padded: lanes read different rows without bank conflicts)
    float* vs = ks + TILE * (D + 1);     // [TILE][Dv + 1]
    const i64 b = block_batch(L);
    if (b < 0) return;   // the whole block: before any barrier
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int row0 = blockIdx.x * ROWS, i = row0 + warp;
    const float* qb = q + matrix_offset(L, 0, b);
    const float* kb = k + matrix_offset(L, 1, b);
    const float* vb = v + matrix_offset(L, 2, b);
    const float keep = 1.f - dropoutP;
    const float keepScale = dropoutP > 0.f ? 1.f / keep : 1.f;

    for (int idx = threadIdx.x; idx < ROWS * D; idx += blockDim.x) {
        int r = idx / D, d = idx - r * D;
        qs[idx] = row0 + r < T ? qb[(i64)(row0 + r) * L.ld[0] + d] : 0.f;
    }
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    float m = -inf_f(), l = 0.f;
    const int blockKeys = causal ? min(S, row0 + ROWS) : S;
    const int myKeys = causal ? min(S, i + 1) : S;
    for (int t0 = 0; t0 < blockKeys; t0 += TILE) {
        __syncthreads();
        for (int idx = threadIdx.x; idx < TILE * D; idx += blockDim.x) {
            int r = idx / D, d = idx - r * D;
            ks[r * (D + 1) + d] = t0 + r < S ? kb[(i64)(t0 + r) * L.ld[1] + d] : 0.f;
        }
        for (int idx = threadIdx.x; idx < TILE * Dv; idx += blockDim.x) {
            int r = idx / Dv, d = idx - r * Dv;
            vs[r * (Dv + 1) + d] = t0 + r < S ? vb[(i64)(t0 + r) * L.ld[2] + d] : 0.f;
        }
        __syncthreads();
        if (i >= T) continue;  // warp-uniform; the warp still joins the barriers above
        const int key = t0 + lane;
        const bool visible = key < myKeys;
        float s = -inf_f();
        if (visible) {
            float dot = 0.f;
            for (int d = 0; d < D; ++d) dot += qs[warp * D + d] * ks[lane * (D + 1) + d];
            s = dot * scale;
        }
        const float tileMax = warp_max(s);
        if (tileMax == -inf_f()) continue;   // no visible key in this tile for this row (warp-uniform)
        const float mNew = fmaxf(m, tileMax);
        const float p = visible ? expf(s - mNew) : 0.f;
        const float correction = expf(m - mNew);   // 0 on the first tile (m = -inf)
        l = l * correction + warp_sum(p);
        float pd = p;
        if (dropoutP > 0.f) pd = visible && kept(seed, b, T, S, i, key, keep) ? p * keepScale : 0.f;
#pragma unroll
        for (int c = 0; c < 4; ++c) acc[c] *= correction;
        for (int j = 0; j < TILE; ++j) {
            const float pj = __shfl_sync(0xffffffffu, pd, j);
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                int d = lane + 32 * c;
                if (d < Dv) acc[c] += pj * vs[j * (Dv + 1) + d];
            }
        }
        m = mNew;
    }
    if (i < T) {
        float* ob = out + matrix_offset(L, 3, b) + (i64)i * L.ld[3];
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            int d = lane + 32 * c;
            if (d < Dv) ob[d] = acc[c] / l;
        }
        if (lane == 0) lse[b * T + i] = m + logf(l);
    }
}

// delta[b, i] = gradOutput_i . output_i (the softmax backward's row sums), a warp per row. Under autocast
// (precision bf16 or fp16) gradOutput is rounded as it is read, as the tensor-core kernels read it; both are read
// as their blocks hold them (float32, or 16 bits for an output or a gradient held that way: CudaStorage.HeldAs).
extern "C" __global__ void attention_delta(AttnLayout L, const void* out, int outType, const void* gout, int goutType, float* delta,
                                           int T, int Dv, int precision, i64 batch) {
    const i64 row = (i64)blockIdx.x * ROWS + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= batch * T) return;
    const i64 b = row / T;
    const int i = (int)(row - b * T);
    const i64 o = matrix_offset(L, 3, b) + (i64)i * L.ld[3];
    const i64 g = matrix_offset(L, 4, b) + (i64)i * L.ld[4];
    float s = 0.f;
    for (int d = lane; d < Dv; d += 32) s += round_as(precision, load_as_float(gout, goutType, g + d)) * load_as_float(out, outType, o + d);
    s = warp_sum(s);
    if (lane == 0) delta[row] = s;
}

// dq_i = scale * sum_j ds_ij k_j with ds_ij = p_ij (dp_ij - delta_i), dp_ij = do_i . v_j (masked and
// rescaled by dropout); a warp per query row, keys in tiles.
extern "C" __global__ void attention_backward_dq(AttnLayout L, const float* q, const float* k, const float* v, const float* gout,
                                                 const float* lse, const float* delta, float* gq, int T, int S, int D, int Dv,
                                                 int causal, float scale, float dropoutP, unsigned long long seed) {
    extern __shared__ float smem[];
    float* qs = smem;                    // [ROWS][D]
    float* dos = qs + ROWS * D;          // [ROWS][Dv]
    float* ks = dos + ROWS * Dv;         // [TILE][D + 1]
    float* vs = ks + TILE * (D + 1);     // [TILE][Dv + 1]
    const i64 b = block_batch(L);
    if (b < 0) return;   // the whole block: before any barrier
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int row0 = blockIdx.x * ROWS, i = row0 + warp;
    const float* qb = q + matrix_offset(L, 0, b);
    const float* kb = k + matrix_offset(L, 1, b);
    const float* vb = v + matrix_offset(L, 2, b);
    const float* gb = gout + matrix_offset(L, 4, b);
    const float keep = 1.f - dropoutP;
    const float keepScale = dropoutP > 0.f ? 1.f / keep : 1.f;

    for (int idx = threadIdx.x; idx < ROWS * D; idx += blockDim.x) {
        int r = idx / D, d = idx - r * D;
        qs[idx] = row0 + r < T ? qb[(i64)(row0 + r) * L.ld[0] + d] : 0.f;
    }
    for (int idx = threadIdx.x; idx < ROWS * Dv; idx += blockDim.x) {
        int r = idx / Dv, d = idx - r * Dv;
        dos[idx] = row0 + r < T ? gb[(i64)(row0 + r) * L.ld[4] + d] : 0.f;
    }
    const float rowLse = i < T ? lse[b * T + i] : 0.f;
    const float rowDelta = i < T ? delta[b * T + i] : 0.f;
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    const int blockKeys = causal ? min(S, row0 + ROWS) : S;
    const int myKeys = causal ? min(S, i + 1) : S;
    for (int t0 = 0; t0 < blockKeys; t0 += TILE) {
        __syncthreads();
        for (int idx = threadIdx.x; idx < TILE * D; idx += blockDim.x) {
            int r = idx / D, d = idx - r * D;
            ks[r * (D + 1) + d] = t0 + r < S ? kb[(i64)(t0 + r) * L.ld[1] + d] : 0.f;
        }
        for (int idx = threadIdx.x; idx < TILE * Dv; idx += blockDim.x) {
            int r = idx / Dv, d = idx - r * Dv;
            vs[r * (Dv + 1) + d] = t0 + r < S ? vb[(i64)(t0 + r) * L.ld[2] + d] : 0.f;
        }
        __syncthreads();
        if (i >= T) continue;
        const int key = t0 + lane;
        float ds = 0.f;
        if (key < myKeys) {
            float dot = 0.f;
            for (int d = 0; d < D; ++d) dot += qs[warp * D + d] * ks[lane * (D + 1) + d];
            const float p = expf(dot * scale - rowLse);
            float dp = 0.f;
            for (int d = 0; d < Dv; ++d) dp += dos[warp * Dv + d] * vs[lane * (Dv + 1) + d];
            if (dropoutP > 0.f) dp = kept(seed, b, T, S, i, key, keep) ? dp * keepScale : 0.f;
            ds = p * (dp - rowDelta);
        }
        for (int j = 0; j < TILE; ++j) {
            const float dsj = __shfl_sync(0xffffffffu, ds, j);
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                int d = lane + 32 * c;
                if (d < D) acc[c] += dsj * ks[j * (D + 1) + d];
            }
        }
    }
    if (i < T) {
        float* out = gq + matrix_offset(L, 5, b) + (i64)i * L.ld[5];
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            int d = lane + 32 * c;
            if (d < D) out[d] = acc[c] * scale;
        }
    }
}

// dv_j = sum_i pd_ij do_i and dk_j = scale * sum_i ds_ij q_i; a warp per key row, queries in tiles.
extern "C" __global__ void attention_backward_dkdv(AttnLayout L, const float* q, const float* k, const float* v, const float* gout,
                                                   const float* lse, const float* delta, float* gk, float* gv, int T, int S,
                                                   int D, int Dv, int causal, float scale, float dropoutP, unsigned long long seed) {
    extern __shared__ float smem[];
    float* kss = smem;                   // [ROWS][D]
    float* vss = kss + ROWS * D;         // [ROWS][Dv]
    float* qt = vss + ROWS * Dv;         // [TILE][D + 1]
    float* dot_ = qt + TILE * (D + 1);   // [TILE][Dv + 1] gradOutput rows
    const i64 b = block_batch(L);
    if (b < 0) return;   // the whole block: before any barrier
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int row0 = blockIdx.x * ROWS, j = row0 + warp;
    const float* qb = q + matrix_offset(L, 0, b);
    const float* kb = k + matrix_offset(L, 1, b);
    const float* vb = v + matrix_offset(L, 2, b);
    const float* gb = gout + matrix_offset(L, 4, b);
    const float keep = 1.f - dropoutP;
    const float keepScale = dropoutP > 0.f ? 1.f / keep : 1.f;

    for (int idx = threadIdx.x; idx < ROWS * D; idx += blockDim.x) {
        int r = idx / D, d = idx - r * D;
        kss[idx] = row0 + r < S ? kb[(i64)(row0 + r) * L.ld[1] + d] : 0.f;
    }
    for (int idx = threadIdx.x; idx < ROWS * Dv; idx += blockDim.x) {
        int r = idx / Dv, d = idx - r * Dv;
        vss[idx] = row0 + r < S ? vb[(i64)(row0 + r) * L.ld[2] + d] : 0.f;
    }
    float dk[4] = {0.f, 0.f, 0.f, 0.f}, dv[4] = {0.f, 0.f, 0.f, 0.f};
    const int firstQuery = causal ? row0 : 0;   // causal: query i sees key j only when j <= i
    for (int t0 = firstQuery; t0 < T; t0 += TILE) {
        __syncthreads();
        for (int idx = threadIdx.x; idx < TILE * D; idx += blockDim.x) {
            int r = idx / D, d = idx - r * D;
            qt[r * (D + 1) + d] = t0 + r < T ? qb[(i64)(t0 + r) * L.ld[0] + d] : 0.f;
        }
        for (int idx = threadIdx.x; idx < TILE * Dv; idx += blockDim.x) {
            int r = idx / Dv, d = idx - r * Dv;
            dot_[r * (Dv + 1) + d] = t0 + r < T ? gb[(i64)(t0 + r) * L.ld[4] + d] : 0.f;
        }
        __syncthreads();
        if (j >= S) continue;
        const int i = t0 + lane;
        float pd = 0.f, ds = 0.f;
        if (i < T && (!causal || j <= i)) {
            float s = 0.f;
            for (int d = 0; d < D; ++d) s += qt[lane * (D + 1) + d] * kss[warp * D + d];
            const float p = expf(s * scale - lse[b * T + i]);
            float dp = 0.f;
            for (int d = 0; d < Dv; ++d) dp += dot_[lane * (Dv + 1) + d] * vss[warp * Dv + d];
            pd = p;
            if (dropoutP > 0.f) {
                const bool keptIJ = kept(seed, b, T, S, i, j, keep);
                pd = keptIJ ? p * keepScale : 0.f;
                dp = keptIJ ? dp * keepScale : 0.f;
            }
            ds = p * (dp - delta[b * T + i]);
        }
        for (int r = 0; r < TILE; ++r) {
            const float pdr = __shfl_sync(0xffffffffu, pd, r);
            const float dsr = __shfl_sync(0xffffffffu, ds, r);
#pragma unroll
            for (int c = 0; c < 4; ++c) {
                int d = lane + 32 * c;
                if (d < Dv) dv[c] += pdr * dot_[r * (Dv + 1) + d];
                if (d < D) dk[c] += dsr * qt[r * (D + 1) + d];
            }
        }
    }
    if (j < S) {
        float* outK = gk + matrix_offset(L, 6, b) + (i64)j * L.ld[6];
        float* outV = gv + matrix_offset(L, 7, b) + (i64)j * L.ld[7];
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            int d = lane + 32 * c;
            if (d < D) outK[d] = dk[c] * scale;
            if (d < Dv) outV[d] = dv[c];
        }
    }
}
