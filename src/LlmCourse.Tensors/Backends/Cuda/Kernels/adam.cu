// Fused Adam/AdamW: PyTorch 1.13's single-tensor update in PyTorch's order of operations, each step
// rounded to float with the _rn intrinsics (no fused multiply-add contraction), so it gives the same
// bits as the CPU backend's AdamReference. Gradient-norm clipping's scale is folded in by the host.
extern "C" __global__ void adam_step(float* p, const float* g, float* m, float* v, i64 n,
                                     float beta1, float beta2, float oneMinusBeta1, float oneMinusBeta2, float bias2Sqrt,
                                     float stepSize, float decay, float l2, float eps, int decoupled) {
    GRID_STRIDE(i, n) {
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
}
