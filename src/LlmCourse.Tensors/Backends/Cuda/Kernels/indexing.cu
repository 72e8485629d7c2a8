// Index kernels: row selection (embedding lookup) and gather, and their backward scatter-adds. The
// scatter-adds never use atomics: each output element adds its contributions itself, in index order,
// the order the CPU backend adds them in, so the results are the same bits on both and run after run.

// y[o, i, :] = x[o, ids[i], :]; x contiguous [outer, size, inner], y [outer, count, inner].
extern "C" __global__ void index_select(const float* x, const int* ids, int outer, int size, int inner, int count, float* y) {
    GRID_STRIDE(t, (i64)outer * count * inner) {
        i64 j = t % inner;
        i64 rest = t / inner;
        i64 i = rest % count;
        i64 o = rest / count;
        y[t] = x[(o * size + ids[i]) * inner + j];
    }
}

// gx[o, rows[r], :] += sum of g[o, positions[starts[r]..starts[r+1]], :], in position order.
// rows/starts/positions: the indices grouped by target row on the host (a CSR of the index list).
extern "C" __global__ void index_add_grouped(const float* g, const int* rows, const int* starts, const int* positions,
                                             int groups, int outer, int size, int inner, int count, float* gx) {
    GRID_STRIDE(t, (i64)outer * groups * inner) {
        i64 j = t % inner;
        i64 rest = t / inner;
        int r = (int)(rest % groups);
        i64 o = rest / groups;
        i64 target = (o * size + rows[r]) * inner + j;
        float acc = gx[target];
        for (int p = starts[r]; p < starts[r + 1]; ++p) acc += g[(o * count + positions[p]) * inner + j];
        gx[target] = acc;
    }
}

// Layout: shape = index's shape; strides[0] = x's strides, offsets[0] = x's offset; y and index contiguous.
// y[pos] = x[pos with pos[dim] replaced by index[pos]].
extern "C" __global__ void gather_dim(Layout L, const float* x, int dim, const int* index, float* y, i64 n) {
    GRID_STRIDE(t, n) {
        i64 rest = t, off = L.offsets[0];
        for (int d = L.rank - 1; d >= 0; --d) {
            int p = (int)(rest % L.shape[d]);
            rest /= L.shape[d];
            off += (i64)(d == dim ? index[t] : p) * L.strides[0][d];
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
