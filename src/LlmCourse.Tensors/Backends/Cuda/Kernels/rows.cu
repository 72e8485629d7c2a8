// Fused kernels over the rows of a contiguous [rows, n] tensor, one block per row: softmax and
// log-softmax, cross-entropy with ignore_index and label smoothing, layer norm and RMS norm, each
// forward and backward, and the column sums of the norm's weight/bias gradients. The host's formulas
// (CpuBackend.Rows.cs) in the same order of operations.

extern "C" __global__ void softmax_forward(const float* x, float* y, int n, int isLog) {
    __shared__ float scratch[32];
    const float* row = x + (i64)blockIdx.x * n;
    float* out = y + (i64)blockIdx.x * n;
    float m = -inf_f();
    for (int i = threadIdx.x; i < n; i += blockDim.x) m = max_nan(m, row[i]);
    m = block_max(m, scratch);
    float s = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += expf(row[i] - m);
    s = block_sum(s, scratch);
    if (isLog) {
        float logSum = logf(s);
        for (int i = threadIdx.x; i < n; i += blockDim.x) out[i] = (row[i] - m) - logSum;
    } else {
        for (int i = threadIdx.x; i < n; i += blockDim.x) out[i] = expf(row[i] - m) / s;
    }
}

extern "C" __global__ void softmax_backward(const float* y, const float* gy, float* gx, int n, int isLog) {
    __shared__ float scratch[32];
    i64 base = (i64)blockIdx.x * n;
    float s = 0.f;
    if (isLog) {
        // gx = gy - softmax * sum(gy), softmax = exp(log-softmax)
        for (int i = threadIdx.x; i < n; i += blockDim.x) s += gy[base + i];
        s = block_sum(s, scratch);
        for (int i = threadIdx.x; i < n; i += blockDim.x) gx[base + i] = gy[base + i] - expf(y[base + i]) * s;
    } else {
        // gx = y * (gy - sum(gy * y))
        for (int i = threadIdx.x; i < n; i += blockDim.x) s += gy[base + i] * y[base + i];
        s = block_sum(s, scratch);
        for (int i = threadIdx.x; i < n; i += blockDim.x) gx[base + i] = (gy[base + i] - s) * y[base + i];
    }
}

// Logits are read with their type: float32, or the 16-bit block of an output layer's autocast product (CudaStorage.HeldAs).
extern "C" __global__ void cross_entropy_forward(const void* logits, int logitsType, const int* targets, int classes, int ignoreIndex,
                                                 float labelSmoothing, float* losses, float* logSumExp) {
    __shared__ float scratch[32];
    int r = blockIdx.x;
    const i64 row = (i64)r * classes;
    float m = -inf_f();
    for (int i = threadIdx.x; i < classes; i += blockDim.x) m = max_nan(m, load_as_float(logits, logitsType, row + i));
    m = block_max(m, scratch);
    float s = 0.f, total = 0.f;
    for (int i = threadIdx.x; i < classes; i += blockDim.x) {
        const float x = load_as_float(logits, logitsType, row + i);
        s += expf(x - m);
        total += x;
    }
    s = block_sum(s, scratch);
    if (labelSmoothing != 0.f) total = block_sum(total, scratch);
    if (threadIdx.x != 0) return;
    float logSum = logf(s);
    logSumExp[r] = m + logSum;
    int t = targets[r];
    if (t == ignoreIndex) { losses[r] = 0.f; return; }
    // A bad target was recorded by check_indices and is reported at the next read-back: never read outside the row.
    if (t < 0 || t >= classes) { losses[r] = nan_f(); return; }
    float nll = -((load_as_float(logits, logitsType, row + t) - m) - logSum);
    if (labelSmoothing == 0.f) losses[r] = nll;
    else {
        float meanNll = -(total / classes - m - logSum);
        losses[r] = (1.f - labelSmoothing) * nll + labelSmoothing * meanNll;
    }
}

// gradLogits = gradLosses[row] * (softmax - smoothed one-hot), 0 on ignored rows, stored as gradType: float32, or
// rounded into a 16-bit block (autocast's logits have a 16-bit gradient, CudaBackend.CrossEntropyBackwardRounded).
extern "C" __global__ void cross_entropy_backward(const void* logits, int logitsType, const int* targets, const float* logSumExp,
                                                  const float* gradLosses, int classes, int ignoreIndex, float labelSmoothing,
                                                  void* gradLogits, int gradType) {
    int r = blockIdx.x;
    i64 base = (i64)r * classes;
    int t = targets[r];
    if (t == ignoreIndex) {
        for (int i = threadIdx.x; i < classes; i += blockDim.x) store_from_float(gradLogits, gradType, base + i, 0.f);
        return;
    }
    float lse = logSumExp[r], g = gradLosses[r], smooth = labelSmoothing / classes;
    for (int i = threadIdx.x; i < classes; i += blockDim.x) {
        float p = expf(load_as_float(logits, logitsType, base + i) - lse);
        if (labelSmoothing != 0.f) p -= smooth;
        if (i == t) p -= 1.f - labelSmoothing;
        store_from_float(gradLogits, gradType, base + i, p * g);
    }
}

// weight/bias may be null. RMS norm: no mean is subtracted (mean stored as 0).
extern "C" __global__ void layer_norm_forward(const float* x, const float* weight, const float* bias, float eps, int rms,
                                              int n, float* y, float* mean, float* rstd) {
    __shared__ float scratch[32];
    i64 base = (i64)blockIdx.x * n;
    float mu = 0.f, var;
    if (rms) {
        float s = 0.f;
        for (int i = threadIdx.x; i < n; i += blockDim.x) { float v = x[base + i]; s += v * v; }
        var = block_sum(s, scratch) / n;
    } else {
        float s = 0.f;
        for (int i = threadIdx.x; i < n; i += blockDim.x) s += x[base + i];
        mu = block_sum(s, scratch) / n;
        float q = 0.f;
        for (int i = threadIdx.x; i < n; i += blockDim.x) { float d = x[base + i] - mu; q += d * d; }
        var = block_sum(q, scratch) / n;  // biased, like PyTorch
    }
    float inv = 1.f / sqrtf(var + eps);
    if (threadIdx.x == 0) { mean[blockIdx.x] = mu; rstd[blockIdx.x] = inv; }
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = (x[base + i] - mu) * inv;
        if (weight) v *= weight[i];
        if (bias) v += bias[i];
        y[base + i] = v;
    }
}

// gx = inv * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)), gxhat = gy * w; RMS norm has no mean(gxhat) term.
// gy is read with its type: float32, or the 16-bit block of the next projection's input gradient (CudaStorage.HeldAs).
extern "C" __global__ void layer_norm_backward(const float* x, const float* weight, const float* mean, const float* rstd,
                                               const void* gy, int gyType, int rms, int n, float* gx) {
    __shared__ float scratch[32];
    i64 base = (i64)blockIdx.x * n;
    float mu = mean[blockIdx.x], inv = rstd[blockIdx.x];
    float dot = 0.f, sum = 0.f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float xhat = (x[base + i] - mu) * inv;
        const float gi = load_as_float(gy, gyType, base + i);
        float g = weight ? gi * weight[i] : gi;
        dot += g * xhat;
        sum += g;
    }
    float meanDot = block_sum(dot, scratch) / n;
    float meanG = rms ? 0.f : block_sum(sum, scratch) / n;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float xhat = (x[base + i] - mu) * inv;
        const float gi = load_as_float(gy, gyType, base + i);
        float g = weight ? gi * weight[i] : gi;
        gx[base + i] = (g - xhat * meanDot - meanG) * inv;
    }
}

// Partial column sums over chunks of `chunkRows` rows: partialW[c, j] = sum gy * xhat, partialB[c, j] = sum gy
// (either may be null). The host then sums the chunks in order (reduce_columns), so the result is deterministic.
// Grid: x = chunks (up to 2^31 - 1: rows / 32 passes 65535, grid y's limit, at 2.1M rows), y = blocks of columns.
extern "C" __global__ void layer_norm_param_grads(const float* x, const float* mean, const float* rstd, const void* gy, int gyType,
                                                  int rows, int n, int chunkRows, float* partialW, float* partialB) {
    int j = blockIdx.y * blockDim.x + threadIdx.x;
    int chunk = blockIdx.x;
    if (j >= n) return;
    int first = chunk * chunkRows, last = min(rows, first + chunkRows);
    float w = 0.f, b = 0.f;
    for (int r = first; r < last; ++r) {
        float g = load_as_float(gy, gyType, (i64)r * n + j);
        w += g * ((x[(i64)r * n + j] - mean[r]) * rstd[r]);
        b += g;
    }
    if (partialW) partialW[(i64)chunk * n + j] = w;
    if (partialB) partialB[(i64)chunk * n + j] = b;
}
