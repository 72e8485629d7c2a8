// Reductions of a contiguous [outer, size, inner] tensor over its middle axis, cumulative sums,
// top-k, and the scalar summaries (non-finite flags, sum of squares). Every result is
// computed in a fixed order for a given shape, so runs repeat bit for bit.

// (value, index) ranking of max/min: a NaN wins (and propagates), then the extreme value, then the
// smaller index (PyTorch returns the first of equal extremes).
__device__ __forceinline__ bool better(float v, int i, float w, int j, bool isMax) {
    bool vn = v != v, wn = w != w;
    if (vn || wn) return vn && (!wn || i < j);
    if (v != w) return isMax ? v > w : v < w;
    return i < j;
}

// inner == 1: one block per output, the block reduces a contiguous run of `size` values.
// op: 0 sum, 1 max, 2 min.
extern "C" __global__ void reduce_rows(int op, const float* x, int size, float* y, int* indices) {
    __shared__ float sv[32];
    __shared__ int si[32];
    const float* row = x + (i64)blockIdx.x * size;
    if (op == 0) {
        float s = 0.f;
        for (int i = threadIdx.x; i < size; i += blockDim.x) s += row[i];
        s = block_sum(s, sv);
        if (threadIdx.x == 0) y[blockIdx.x] = s;
        return;
    }
    bool isMax = op == 1;
    float best = isMax ? -inf_f() : inf_f();
    int at = 0x7fffffff;
    for (int i = threadIdx.x; i < size; i += blockDim.x)
        if (better(row[i], i, best, at, isMax)) { best = row[i]; at = i; }
    for (int o = 16; o > 0; o >>= 1) {
        float w = __shfl_xor_sync(0xffffffffu, best, o);
        int j = __shfl_xor_sync(0xffffffffu, at, o);
        if (better(w, j, best, at, isMax)) { best = w; at = j; }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) { sv[warp] = best; si[warp] = at; }
    __syncthreads();
    if (warp == 0) {
        best = lane < warps ? sv[lane] : (isMax ? -inf_f() : inf_f());
        at = lane < warps ? si[lane] : 0x7fffffff;
        for (int o = 16; o > 0; o >>= 1) {
            float w = __shfl_xor_sync(0xffffffffu, best, o);
            int j = __shfl_xor_sync(0xffffffffu, at, o);
            if (better(w, j, best, at, isMax)) { best = w; at = j; }
        }
        if (lane == 0) {
            if (at == 0x7fffffff) at = 0; // an empty row cannot happen (the op checks), but never write a wild index
            y[blockIdx.x] = size > 0 ? row[at] : best;
            if (indices) indices[blockIdx.x] = at;
        }
    }
}

// inner == 1 with a few very long rows (a whole-tensor sum): block c of row o sums elements
// [c * chunk, (c + 1) * chunk) of the row into partial[o * chunks + c]; reduce_rows then sums the chunks in
// order. One block per row would leave all but one SM idle, and each thread would add ~size / 512 terms.
extern "C" __global__ void sum_rows_chunked(const float* x, i64 size, int chunk, int chunks, float* partial) {
    __shared__ float sv[32];
    const i64 o = blockIdx.x / chunks;
    const int c = (int)(blockIdx.x - o * chunks);
    const i64 first = (i64)c * chunk, last = min(size, first + chunk);
    const float* row = x + o * size;
    float s = 0.f;
    for (i64 i = first + threadIdx.x; i < last; i += blockDim.x) s += row[i];
    s = block_sum(s, sv);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// inner > 1: one thread per (outer, column), walking the rows in order (coalesced across columns).
extern "C" __global__ void reduce_columns(int op, const float* x, int outer, int size, int inner, float* y, int* indices) {
    GRID_STRIDE(t, (i64)outer * inner) {
        i64 o = t / inner;
        int j = (int)(t - o * inner);
        const float* block = x + o * size * inner + j;
        if (op == 0) {
            float s = 0.f;
            for (int r = 0; r < size; ++r) s += block[(i64)r * inner];
            y[t] = s;
            continue;
        }
        bool isMax = op == 1;
        float best = block[0];
        int at = 0;
        for (int r = 1; r < size; ++r) {
            float v = block[(i64)r * inner];
            if (better(v, r, best, at, isMax)) { best = v; at = r; }
        }
        y[t] = best;
        if (indices) indices[t] = at;
    }
}

// Accumulates in double like the host, one thread per (outer, column).
extern "C" __global__ void cumsum(const float* x, int outer, int size, int inner, float* y) {
    GRID_STRIDE(t, (i64)outer * inner) {
        i64 o = t / inner;
        int j = (int)(t - o * inner);
        i64 base = o * size * inner + j;
        double acc = 0.0;
        for (int r = 0; r < size; ++r) {
            acc += x[base + (i64)r * inner];
            y[base + (i64)r * inner] = (float)acc;
        }
    }
}

// flags[0] |= any NaN, flags[1] |= any infinity.
extern "C" __global__ void find_nonfinite(const float* x, i64 n, int* flags) {
    int nan = 0, inf = 0;
    GRID_STRIDE(i, n) {
        float v = x[i];
        nan |= v != v;
        inf |= (v == inf_f()) | (v == -inf_f());
    }
    if (__any_sync(0xffffffffu, nan) && (threadIdx.x & 31) == 0) atomicOr(&flags[0], 1);
    if (__any_sync(0xffffffffu, inf) && (threadIdx.x & 31) == 0) atomicOr(&flags[1], 1);
}

// The block's sum of every thread's s in a fixed order (each warp, then the first warp over the warps' sums),
// stored by thread 0 at *out.
__device__ __forceinline__ void block_sum_d_store(double s, double* out) {
    __shared__ double scratch[32];
    s = warp_sum_d(s);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) scratch[warp] = s;
    __syncthreads();
    if (warp == 0) {
        s = lane < warps ? scratch[lane] : 0.0;
        s = warp_sum_d(s);
        if (lane == 0) *out = s;
    }
}

// Per-block partial sums of squares in double (the grid size is fixed by n on the host, so the order is too).
extern "C" __global__ void sum_squares_partial(const float* x, i64 n, double* partial) {
    double s = 0.0;
    GRID_STRIDE(i, n) { double v = x[i]; s += v * v; }
    block_sum_d_store(s, &partial[blockIdx.x]);
}

// sum_squares_partial for many tensors in one launch (a global gradient norm): block b writes partial[b], the
// partial sum_squares_partial would have written for its tensor, its blocks numbered after the earlier tensors'.
extern "C" __global__ void sum_squares_multi(const TensorSpan* spans, int count, double* partial) {
    const int t = span_of_block(spans, count);
    i64 local, blocks;
    span_blocks(spans, count, t, &local, &blocks);
    const float* x = (const float*)spans[t].address;
    const i64 n = spans[t].n;
    double s = 0.0;
    for (i64 i = local * blockDim.x + threadIdx.x; i < n; i += blocks * blockDim.x) { double v = x[i]; s += v * v; }
    block_sum_d_store(s, &partial[blockIdx.x]);
}

// One block adds the partials in a fixed order.
extern "C" __global__ void sum_partials_d(const double* partial, int count, double* total) {
    double s = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
    block_sum_d_store(s, &total[0]);
}

// Top-k of each contiguous row, one block per row: pass t finds the best element ranked strictly after
// the (t-1)-th (a total order: value with NaN largest, then index), so no element is marked or copied.
__device__ __forceinline__ bool ranks_before(float a, int i, float b, int j, bool largest) {
    bool an = a != a, bn = b != b;
    int c;
    if (an || bn) c = an && bn ? 0 : an ? 1 : -1;
    else c = a > b ? 1 : a < b ? -1 : 0;
    if (!largest) c = -c;
    return c > 0 || (c == 0 && i < j);
}

extern "C" __global__ void topk_rows(const float* x, int n, int k, int largest, float* values, int* indices) {
    __shared__ float sv[32];
    __shared__ int si[32];
    __shared__ float prevV;
    __shared__ int prevI;
    const float* row = x + (i64)blockIdx.x * n;
    for (int t = 0; t < k; ++t) {
        float best = 0.f;
        int at = -1;
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            float v = row[i];
            if (t > 0 && !ranks_before(prevV, prevI, v, i, largest)) continue;  // already taken
            if (at < 0 || ranks_before(v, i, best, at, largest)) { best = v; at = i; }
        }
        for (int o = 16; o > 0; o >>= 1) {
            float w = __shfl_xor_sync(0xffffffffu, best, o);
            int j = __shfl_xor_sync(0xffffffffu, at, o);
            if (j >= 0 && (at < 0 || ranks_before(w, j, best, at, largest))) { best = w; at = j; }
        }
        int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
        if (lane == 0) { sv[warp] = best; si[warp] = at; }
        __syncthreads();
        if (threadIdx.x == 0) {
            best = sv[0];
            at = si[0];
            for (int w = 1; w < warps; ++w)
                if (si[w] >= 0 && (at < 0 || ranks_before(sv[w], si[w], best, at, largest))) { best = sv[w]; at = si[w]; }
            values[(i64)blockIdx.x * k + t] = best;
            indices[(i64)blockIdx.x * k + t] = at;
            prevV = best;
            prevI = at;
        }
        __syncthreads();
    }
}

// Partial sums of [outer, size, inner] over chunks of `chunkRows` rows: partial[o, c, j]. The host then
// sums the chunks (reduce_columns), in order: a column sum over many rows gets many threads.
extern "C" __global__ void sum_columns_chunked(const float* x, int outer, int size, int inner, int chunkRows, int chunks, float* partial) {
    GRID_STRIDE(t, (i64)outer * chunks * inner) {
        i64 j = t % inner;
        i64 rest = t / inner;
        int c = (int)(rest % chunks);
        i64 o = rest / chunks;
        int first = c * chunkRows, last = min(size, first + chunkRows);
        const float* block = x + o * size * inner + j;
        float s = 0.f;
        for (int r = first; r < last; ++r) s += block[(i64)r * inner];
        partial[t] = s;
    }
}
