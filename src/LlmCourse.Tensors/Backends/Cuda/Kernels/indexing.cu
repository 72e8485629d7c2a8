// Index kernels: the deferred bounds check, row selection (embedding lookup) and gather, and their
// backward scatter-adds. The scatter-adds never use float atomics: each output element adds its
// contributions itself, in index order, the order the CPU backend adds them in, so the results are the
// same bits on both and run after run. A kernel given an out-of-range index (check_indices recorded it,
// the host reports it at its next read-back) never reads or writes outside its tensors.

// Every id in [0, size), or equal to `allowed` when hasAllowed (cross-entropy's ignoreIndex); the first
// that is not goes to the error slot (report_failure), which the host reads at its next read-back.
extern "C" __global__ void check_indices(const int* ids, i64 n, int size, int allowed, int hasAllowed,
                                         ErrorSlot* slot, int launch, int check) {
    GRID_STRIDE(i, n) {
        int v = ids[i];
        if ((v < 0 || v >= size) && !(hasAllowed && v == allowed)) report_failure(slot, launch, check, i, v);
    }
}

// y[o, i, :] = x[o, ids[i], :]; x contiguous [outer, size, inner], y [outer, count, inner].
extern "C" __global__ void index_select(const float* x, const int* ids, int outer, int size, int inner, int count, float* y) {
    GRID_STRIDE(t, (i64)outer * count * inner) {
        const i64 rest = index_div(t, inner), o = index_div(rest, count);
        const i64 j = t - rest * inner, i = rest - o * count;
        int id = ids[i];
        y[t] = id >= 0 && id < size ? x[(o * size + id) * inner + j] : 0.f;  // a bad id reads as 0 until reported
    }
}

// ---- IndexAdd (embedding backward): the ids grouped by value on the device, a counting sort in four
// steps whose result does not depend on the order threads run in, then one thread per output element.

// 1. counts[v] = occurrences of id v (integer atomics: a count does not depend on their order).
extern "C" __global__ void index_histogram(const int* ids, int count, int size, int* counts) {
    GRID_STRIDE(i, count) {
        int v = ids[i];
        if (v >= 0 && v < size) atomicAdd(&counts[v], 1);
    }
}

// 2. starts[v] = counts[0] + ... + counts[v-1], starts[size] = the total. One block of 1024 threads, each
// summing a contiguous stretch, then a scan of the 1024 stretch sums in shared memory.
extern "C" __global__ void exclusive_scan_block(const int* counts, int size, int* starts) {
    __shared__ int sums[1024];
    int per = (size + blockDim.x - 1) / blockDim.x;
    int first = threadIdx.x * per, last = min(size, first + per);
    int own = 0;
    for (int v = first; v < last; ++v) own += counts[v];
    sums[threadIdx.x] = own;
    __syncthreads();
    for (int o = 1; o < blockDim.x; o <<= 1) {  // Hillis-Steele: inclusive sums
        int add = threadIdx.x >= o ? sums[threadIdx.x - o] : 0;
        __syncthreads();
        sums[threadIdx.x] += add;
        __syncthreads();
    }
    int run = sums[threadIdx.x] - own;
    for (int v = first; v < last; ++v) { starts[v] = run; run += counts[v]; }
    if (threadIdx.x == blockDim.x - 1) starts[size] = sums[threadIdx.x];
}

// 3. Each position into its id's bucket, at a slot from an atomic cursor: each bucket holds the right
// positions, in an order that may change from run to run (step 4 removes it).
extern "C" __global__ void index_bucket(const int* ids, int count, int size, const int* starts, int* cursor, int* unordered) {
    GRID_STRIDE(i, count) {
        int v = ids[i];
        if (v >= 0 && v < size) unordered[starts[v] + atomicAdd(&cursor[v], 1)] = (int)i;
    }
}

// 4. positions = each bucket in ascending order: position i's rank in its bucket is how many of the
// bucket's positions are smaller. Costs the sum of the buckets' squared sizes (16k equal ids: 268M
// compares of cached values, about a millisecond; a language model's ids: far less).
extern "C" __global__ void index_rank(const int* ids, int count, int size, const int* starts, const int* unordered, int* positions) {
    GRID_STRIDE(i, count) {
        int v = ids[i];
        if (v < 0 || v >= size) continue;
        int s = starts[v], e = starts[v + 1], rank = 0;
        for (int k = s; k < e; ++k) rank += unordered[k] < (int)i;
        positions[s + rank] = (int)i;
    }
}

// 5. gx[o, v, :] += g[o, p, :] for the positions p of id v in ascending order (the CPU's order, so its
// bits); ids that occur nowhere leave their row alone. gx contiguous [outer, size, inner].
extern "C" __global__ void index_add_sorted(const float* g, const int* starts, const int* positions,
                                            int outer, int size, int inner, int count, float* gx) {
    GRID_STRIDE(t, (i64)outer * size * inner) {
        const i64 rest = index_div(t, inner), o = index_div(rest, size);
        const i64 j = t - rest * inner;
        const int v = (int)(rest - o * size);
        int s = starts[v], e = starts[v + 1];
        if (s == e) continue;
        float acc = gx[t];
        for (int p = s; p < e; ++p) acc += g[(o * count + positions[p]) * inner + j];
        gx[t] = acc;
    }
}

// Layout: shape = index's shape; strides[0] = x's strides, offsets[0] = x's offset; y and index contiguous.
// y[pos] = x[pos with pos[dim] replaced by index[pos]]; size = x's extent along dim (a bad index reads as 0).
extern "C" __global__ void gather_dim(Layout L, const float* x, int dim, int size, const int* index, float* y, i64 n) {
    GRID_STRIDE(t, n) {
        int at = index[t];
        if (at < 0 || at >= size) { y[t] = 0.f; continue; }
        i64 rest = t, off = L.offsets[0];
        for (int d = L.rank - 1; d >= 0; --d) {
            int p = (int)(rest % L.shape[d]);
            rest /= L.shape[d];
            off += (i64)(d == dim ? at : p) * L.strides[0][d];
        }
        y[t] = x[off];
    }
}

// Layout: shape[0..rank) = gx's shape, shape of the index in strides[1] (its row-major strides in strides[2]);
// gx[pos] += sum over j of g[pos with pos[dim] = j] where index there == pos[dim], j ascending.
extern "C" __global__ void scatter_add_dim(Layout L, const float* g, int dim, const int* index, float* gx, i64 n) {
    GRID_STRIDE(t, n) {
        i64 rest = t, base = 0;
        int target = 0;
        bool inside = true;
        for (int d = L.rank - 1; d >= 0; --d) {
            int p = (int)(rest % L.shape[d]);
            rest /= L.shape[d];
            if (d == dim) { target = p; continue; }
            if (p >= L.strides[1][d]) inside = false;  // beyond the index's extent in this dim
            base += (i64)p * L.strides[2][d];
        }
        if (!inside) continue;
        float acc = gx[t];
        int extent = L.strides[1][dim];
        i64 step = L.strides[2][dim];
        for (int j = 0; j < extent; ++j) {
            i64 at = base + j * step;
            if (index[at] == target) acc += g[at];
        }
        gx[t] = acc;
    }
}
