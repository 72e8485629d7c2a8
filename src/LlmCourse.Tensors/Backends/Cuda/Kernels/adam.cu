// Fused Adam/AdamW: PyTorch 1.13's single-tensor update in PyTorch's order of operations, each step
// rounded to float with the _rn intrinsics (no fused multiply-add contraction), so it gives the same
// bits as the CPU backend's AdamReference. Gradient-norm clipping's scale is folded in by the host.
// One element's update, in PyTorch's order of operations.
__device__ __forceinline__ void adam_element(float* p, const float* g, float* m, float* v, i64 i,
                                             float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float bias2Sqrt,
                                             float stepSize, float decay, float l2, float eps, int decoupled) {
    float pi = p[i], gi = g[i];
    if (l2 != 0.f) gi = __fadd_rn(gi, __fmul_rn(l2, pi));                                   // grad.add(param, alpha=wd)
    if (decoupled) pi = __fmul_rn(pi, decay);                                                // param.mul_(1 - lr*wd)
    float mi = __fadd_rn(__fmul_rn(m[i], beta1), __fmul_rn(oneMinusBeta1, gi));             // exp_avg.mul_(b1).add_(g, 1-b1)
    float vi = __fadd_rn(__fmul_rn(v[i], beta2), __fmul_rn(__fmul_rn(oneMinusBeta2, gi), gi)); // exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2)
    float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bias2Sqrt), eps);                       // (sqrt(v) / sqrt(bc2)).add_(eps)
    pi = __fadd_rn(pi, __fdiv_rn(__fmul_rn(-stepSize, mi), denom));                           // param.addcdiv_(m, denom, -step)
    m[i] = mi;
    v[i] = vi;
    p[i] = pi;
}

extern "C" __global__ void adam_step(float* p, const float* g, float* m, float* v, i64 n,
                                     float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float bias2Sqrt,
                                     float stepSize, float decay, float l2, float eps, int decoupled) {
    GRID_STRIDE(i, n) adam_element(p, g, m, v, i, beta1, beta2, oneMinusBeta1, oneMinusBeta2, bias2Sqrt, stepSize, decay, l2, eps, decoupled);
}

// Every parameter of a step in one launch (CudaBackend.AdamSteps): the table's span per parameter, its own scalars.
struct AdamSpan {
    i64 p, g, m, v, n, firstBlock;
    float beta1, beta2, oneMinusBeta1, oneMinusBeta2, bias2Sqrt, stepSize, decay, l2, eps;
    int decoupled;
};

extern "C" __global__ void adam_step_multi(const AdamSpan* spans, int count) {
    const int t = span_of_block(spans, count);
    i64 local, blocks;
    span_blocks(spans, count, t, &local, &blocks);
    const AdamSpan s = spans[t];
    for (i64 i = local * blockDim.x + threadIdx.x; i < s.n; i += blocks * blockDim.x)
        adam_element((float*)s.p, (const float*)s.g, (float*)s.m, (float*)s.v, i, s.beta1, s.beta2, s.oneMinusBeta1, s.oneMinusBeta2,
                     s.bias2Sqrt, s.stepSize, s.decay, s.l2, s.eps, s.decoupled);
}
