// adam.cu on the CPU emulator (simt.h), launched as CudaBackend.Optim.cs launches it (256 threads, a small grid
// so the grid-stride loop wraps, n not a multiple of the block):
// - bit for bit against a transcription of CpuBackend.AdamReference (the same float operations in the same
//   order, each rounded through a volatile float so g++ fuses no multiply-add), over several steps;
// - within 1e-6 relative of Adam computed in double from the same scalars (so both sides cannot share an error);
// Adam (L2 weight decay folded into the gradient) and AdamW (decoupled decay), each with and without decay.
#include "simt.h"
#include "harness.h"
#include "common.cuh"
#include "adam.cu"

#include <cmath>
#include <random>
#include <string>


static const unsigned Threads = 256;
static dim3 grid_for(long long n, unsigned cap = 3) { return dim3{(unsigned)std::max(1LL, std::min((n + Threads - 1) / Threads, (long long)cap)), 1, 1}; }

// CpuBackend.AdamScalars.From: computed in double, rounded where PyTorch hands them to a float kernel.
struct Scalars { float beta1, beta2, omb1, omb2, bias2Sqrt, stepSize, decay, l2, eps; bool decoupled; };
static Scalars scalars_from(float lr, float beta1, float beta2, float eps, float wd, bool decoupled, int step) {
    const double bias1 = 1.0 - std::pow((double)beta1, step);
    return {beta1, beta2, (float)(1.0 - beta1), (float)(1.0 - beta2), (float)std::sqrt(1.0 - std::pow((double)beta2, step)),
            (float)(lr / bias1), (float)(1.0 - (double)lr * wd), decoupled ? 0.f : wd, eps, decoupled && wd != 0.f};
}

static float R(float x) { volatile float r = x; return r; }   // one float rounding, no contraction across it

// CpuBackend.AdamReference, one float operation at a time in C#'s order of evaluation.
static void adam_reference(const Scalars& s, std::vector<float>& p, const std::vector<float>& g, std::vector<float>& m, std::vector<float>& v) {
    for (size_t i = 0; i < p.size(); ++i) {
        float gi = g[i];
        if (s.l2 != 0.f) gi = R(gi + R(s.l2 * p[i]));
        if (s.decoupled) p[i] = R(p[i] * s.decay);
        m[i] = R(R(m[i] * s.beta1) + R(s.omb1 * gi));
        v[i] = R(R(v[i] * s.beta2) + R(R(s.omb2 * gi) * gi));
        const float denom = R(R(std::sqrt(v[i]) / s.bias2Sqrt) + s.eps);
        p[i] = R(p[i] + R(R(-s.stepSize * m[i]) / denom));
    }
}

// Adam in double from the hyper-parameters (PyTorch's formulas, no float rounding between operations).
static void adam_double(double lr, double b1, double b2, double eps, double wd, bool decoupled, int step,
                        std::vector<double>& p, const std::vector<float>& g, std::vector<double>& m, std::vector<double>& v) {
    const double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
    for (size_t i = 0; i < p.size(); ++i) {
        double gi = g[i];
        if (!decoupled) gi += wd * p[i];
        else p[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= lr / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + eps);
    }
}

static void adam_case(const std::string& name, long long n, float lr, float wd, bool decoupled, int steps, unsigned seed) {
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::vector<float> p(n), m(n, 0.f), v(n, 0.f);
    for (auto& x : p) x = normal(rng);
    std::vector<float> rp = p, rm = m, rv = v;
    std::vector<double> dp(p.begin(), p.end()), dm(n, 0.0), dv(n, 0.0);
    bool bits = true;
    double worst = 0;
    for (int step = 1; step <= steps; ++step) {
        std::vector<float> g(n);
        for (auto& x : g) x = normal(rng) * (step % 2 ? 1.f : 1e-3f);   // small gradients too: eps matters
        const Scalars s = scalars_from(lr, b1, b2, eps, wd, decoupled, step);
        simt_launch("adam_step", grid_for(n), Threads, [&] {
            adam_step(p.data(), g.data(), m.data(), v.data(), n, s.beta1, s.beta2, s.omb1, s.omb2, s.bias2Sqrt,
                      s.stepSize, s.decay, s.l2, s.eps, s.decoupled ? 1 : 0);
        });
        adam_reference(s, rp, g, rm, rv);
        adam_double(lr, b1, b2, eps, wd, decoupled, step, dp, g, dm, dv);
        for (long long i = 0; i < n; ++i) {
            bits = bits && std::memcmp(&p[i], &rp[i], 4) == 0 && std::memcmp(&m[i], &rm[i], 4) == 0 && std::memcmp(&v[i], &rv[i], 4) == 0;
            worst = std::max(worst, std::fabs(p[i] - dp[i]) / std::max(1.0, std::fabs(dp[i])));
        }
    }
    bool moved = false;   // the steps changed something (a kernel that writes nothing would match nothing here anyway)
    for (long long i = 0; i < n; ++i) moved = moved || m[i] != 0.f;
    check(bits && moved, name + ": p, m, v equal AdamReference bit for bit after " + std::to_string(steps) + " steps");
    char buf[64];
    std::snprintf(buf, sizeof buf, " (worst %.2e)", worst);
    check(worst <= 1e-6, name + ": p within 1e-6 relative of Adam in double" + buf);
}

int main() {
    adam_case("Adam, no decay, n=1000", 1000, 1e-3f, 0.f, false, 5, 1);
    adam_case("Adam, L2 decay 0.1, n=777", 777, 1e-3f, 0.1f, false, 5, 2);
    adam_case("AdamW, no decay, n=1000", 1000, 3e-3f, 0.f, true, 4, 3);
    adam_case("AdamW, decay 0.01, n=1283", 1283, 3e-3f, 0.01f, true, 6, 4);
    adam_case("AdamW, decay 0.1, lr 1e-2, n=5", 5, 1e-2f, 0.1f, true, 3, 5);
    return simt_report();
}
