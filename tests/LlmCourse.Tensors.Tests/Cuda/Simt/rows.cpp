// rows.cu on the CPU emulator (simt.h), launched as CudaBackend.Rows.cs launches it (one block per row,
// RowThreads(n) threads: a multiple of 32 from 32 to 512), against the formulas in double: softmax and
// log-softmax forward and backward, cross-entropy forward and backward (ignore index, label smoothing),
// layer norm and RMS norm forward and backward with and without weight/bias, and the weight/bias gradients'
// chunked column sums (grid x = chunks of 32 rows, y = column blocks of 256). Row lengths 7, 65, 384 and 1000
// (one warp, a partial warp, several, more than a block). Tolerance: |kernel - reference| <= 1e-5 + 1e-4 |x|
// (float32 sums of up to 1000 terms in the block's order). Cross-entropy's logits and the norms' incoming gradient
// held in bf16 (CudaStorage.HeldAs) must give the bits their float32 values give.
#include "simt.h"
#include "harness.h"
#include "common.cuh"
#include "rows.cu"

#include <functional>
#include <random>
#include <string>


static void close(const std::string& what, const std::vector<double>& expected, const std::vector<float>& actual) {
    double worst = 0;
    size_t bad = 0, at = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
        const double d = std::fabs(actual[i] - expected[i]);
        if (!(d <= 1e-5 + 1e-4 * std::fabs(expected[i]))) { ++bad; if (!(d <= worst)) { worst = d; at = i; } }
    }
    char line[200];
    std::snprintf(line, sizeof line, "%s: %zu of %zu beyond 1e-5 + 1e-4|x| (worst %.3g at %zu)", what.c_str(), bad, expected.size(), worst, at);
    check(bad == 0, line);
}

static unsigned row_threads(int n) { return (unsigned)std::clamp((n + 31) / 32 * 32, 32, 512); }

static std::vector<float> randn(size_t n, unsigned seed, float scale = 1.f, float shift = 0.f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = normal(rng) * scale + shift;
    return v;
}

static void softmax_case(int rows, int n) {
    auto x = randn((size_t)rows * n, 10 + n, 3.f), gy = randn((size_t)rows * n, 20 + n);
    for (int isLog = 0; isLog <= 1; ++isLog) {
        std::vector<float> y(x.size(), NAN), gx(x.size(), NAN);
        std::vector<double> ey(x.size()), egx(x.size());
        for (int r = 0; r < rows; ++r) {
            double m = -INFINITY, s = 0, dot = 0, sg = 0;
            for (int i = 0; i < n; ++i) m = std::max(m, (double)x[(size_t)r * n + i]);
            for (int i = 0; i < n; ++i) s += std::exp(x[(size_t)r * n + i] - m);
            for (int i = 0; i < n; ++i) {
                const size_t k = (size_t)r * n + i;
                const double p = std::exp(x[k] - m) / s;
                ey[k] = isLog ? (x[k] - m) - std::log(s) : p;
                dot += gy[k] * p;
                sg += gy[k];
            }
            for (int i = 0; i < n; ++i) {
                const size_t k = (size_t)r * n + i;
                const double p = std::exp(x[k] - m) / s;
                egx[k] = isLog ? gy[k] - p * sg : p * (gy[k] - dot);
            }
        }
        simt_launch("softmax_forward", dim3{(unsigned)rows, 1, 1}, row_threads(n), [&] { softmax_forward(x.data(), y.data(), n, isLog); });
        close(std::string(isLog ? "log-softmax" : "softmax") + " n=" + std::to_string(n), ey, y);
        simt_launch("softmax_backward", dim3{(unsigned)rows, 1, 1}, row_threads(n), [&] {
            softmax_backward(y.data(), gy.data(), gx.data(), n, isLog);
        });
        close(std::string(isLog ? "log-softmax" : "softmax") + " backward n=" + std::to_string(n), egx, gx);
    }
}

static void cross_entropy_case(int rows, int classes, float smoothing) {
    auto logits = randn((size_t)rows * classes, 30 + classes, 2.f);
    std::vector<int> targets(rows);
    for (int r = 0; r < rows; ++r) targets[r] = r % 5 == 2 ? -100 : (r * 13 + 1) % classes;
    std::vector<float> losses(rows, NAN), lse(rows, NAN), gradLosses(rows), grad((size_t)rows * classes, NAN);
    for (int r = 0; r < rows; ++r) gradLosses[r] = 0.5f + 0.1f * r;
    std::vector<double> el(rows), expectedLse(rows), eg(grad.size());
    for (int r = 0; r < rows; ++r) {
        const float* row = &logits[(size_t)r * classes];
        double m = -INFINITY, s = 0, total = 0;
        for (int i = 0; i < classes; ++i) m = std::max(m, (double)row[i]);
        for (int i = 0; i < classes; ++i) { s += std::exp(row[i] - m); total += row[i]; }
        const double logSum = m + std::log(s);
        expectedLse[r] = logSum;
        const int t = targets[r];
        el[r] = t == -100 ? 0 : (1 - smoothing) * (logSum - row[t]) + smoothing * (logSum - total / classes);
        for (int i = 0; i < classes; ++i) {
            const double p = std::exp(row[i] - logSum) - smoothing / classes - (i == t ? 1 - smoothing : 0);
            eg[(size_t)r * classes + i] = t == -100 ? 0 : p * gradLosses[r];
        }
    }
    const std::string name = "cross-entropy classes=" + std::to_string(classes) + " smoothing=" + std::to_string(smoothing).substr(0, 3);
    simt_launch("cross_entropy_forward", dim3{(unsigned)rows, 1, 1}, row_threads(classes), [&] {
        cross_entropy_forward(logits.data(), DT_F32, targets.data(), classes, -100, smoothing, losses.data(), lse.data());
    });
    close(name + " losses (ignored rows 0)", el, losses);
    close(name + " log-sum-exp", expectedLse, lse);
    simt_launch("cross_entropy_backward", dim3{(unsigned)rows, 1, 1}, row_threads(classes), [&] {
        cross_entropy_backward(logits.data(), DT_F32, targets.data(), lse.data(), gradLosses.data(), classes, -100, smoothing, grad.data(), DT_F32);
    });
    close(name + " backward", eg, grad);

    // Logits held in bf16 (an output layer's autocast product): the same bits as their float32 values give.
    std::vector<u16> held(logits.size());
    std::vector<float> widened(logits.size());
    for (size_t i = 0; i < held.size(); ++i) { held[i] = f32_to_bf16(logits[i]); widened[i] = bf16_to_f32(held[i]); }
    std::vector<float> l16(rows, NAN), l32(rows, NAN), s16(rows, NAN), s32(rows, NAN), g16(grad.size(), NAN), g32(grad.size(), NAN);
    simt_launch("cross_entropy_forward", dim3{(unsigned)rows, 1, 1}, row_threads(classes), [&] { cross_entropy_forward(held.data(), DT_BF16, targets.data(), classes, -100, smoothing, l16.data(), s16.data()); });
    simt_launch("cross_entropy_forward", dim3{(unsigned)rows, 1, 1}, row_threads(classes), [&] { cross_entropy_forward(widened.data(), DT_F32, targets.data(), classes, -100, smoothing, l32.data(), s32.data()); });
    simt_launch("cross_entropy_backward", dim3{(unsigned)rows, 1, 1}, row_threads(classes), [&] { cross_entropy_backward(held.data(), DT_BF16, targets.data(), s16.data(), gradLosses.data(), classes, -100, smoothing, g16.data(), DT_F32); });
    simt_launch("cross_entropy_backward", dim3{(unsigned)rows, 1, 1}, row_threads(classes), [&] { cross_entropy_backward(widened.data(), DT_F32, targets.data(), s32.data(), gradLosses.data(), classes, -100, smoothing, g32.data(), DT_F32); });
    check(l16 == l32 && s16 == s32 && g16 == g32, name + " with the logits held in bf16: the float32 kernel's bits");

    // The gradient stored in 16 bits (autocast's logits have a 16-bit gradient): each value the float32 one rounded to
    // nearest even, ignored rows +0, for bf16 and fp16.
    for (const int format : {DT_BF16, DT_F16}) {
        std::vector<u16> stored(grad.size(), 0xffff);
        simt_launch("cross_entropy_backward", dim3{(unsigned)rows, 1, 1}, row_threads(classes), [&] {
            cross_entropy_backward(held.data(), DT_BF16, targets.data(), s16.data(), gradLosses.data(), classes, -100, smoothing, stored.data(), format);
        });
        size_t bad = 0;
        for (size_t i = 0; i < stored.size(); ++i) bad += stored[i] != (format == DT_BF16 ? f32_to_bf16(g16[i]) : f32_to_f16(g16[i]));
        check(bad == 0, name + " gradient stored in " + (format == DT_BF16 ? "bf16" : "fp16") + ": the float32 gradient rounded (" +
                            std::to_string(bad) + " differ)");
    }
}

static void norm_case(int rows, int n, bool rms, bool affine) {
    auto x = randn((size_t)rows * n, 40 + n, 2.f, 1.f), gy = randn((size_t)rows * n, 50 + n);
    auto w = randn(n, 60 + n), b = randn(n, 70 + n);
    const float eps = 1e-5f;
    const float* weight = affine ? w.data() : nullptr;
    const float* bias = affine && !rms ? b.data() : nullptr;
    std::vector<float> y(x.size(), NAN), mean(rows, NAN), rstd(rows, NAN), gx(x.size(), NAN);
    std::vector<double> ey(x.size()), egx(x.size()), emean(rows), erstd(rows), egw(n, 0), egb(n, 0);
    for (int r = 0; r < rows; ++r) {
        const float* row = &x[(size_t)r * n];
        double mu = 0, var = 0;
        if (!rms) {
            for (int i = 0; i < n; ++i) mu += row[i];
            mu /= n;
        }
        for (int i = 0; i < n; ++i) var += (row[i] - mu) * (row[i] - mu);
        var /= n;
        const double inv = 1 / std::sqrt(var + eps);
        emean[r] = mu;
        erstd[r] = inv;
        double dot = 0, sum = 0;
        for (int i = 0; i < n; ++i) {
            const double xhat = (row[i] - mu) * inv, g = gy[(size_t)r * n + i] * (weight ? w[i] : 1.0);
            ey[(size_t)r * n + i] = xhat * (weight ? w[i] : 1.0) + (bias ? b[i] : 0.0);
            dot += g * xhat;
            sum += g;
            egw[i] += gy[(size_t)r * n + i] * xhat;
            egb[i] += gy[(size_t)r * n + i];
        }
        for (int i = 0; i < n; ++i) {
            const double xhat = (row[i] - mu) * inv, g = gy[(size_t)r * n + i] * (weight ? w[i] : 1.0);
            egx[(size_t)r * n + i] = (g - xhat * dot / n - (rms ? 0 : sum / n)) * inv;
        }
    }
    const std::string name = std::string(rms ? "RMS norm" : "layer norm") + (affine ? " affine" : "") + " n=" + std::to_string(n);
    simt_launch("layer_norm_forward", dim3{(unsigned)rows, 1, 1}, row_threads(n), [&] {
        layer_norm_forward(x.data(), weight, bias, eps, rms ? 1 : 0, n, y.data(), mean.data(), rstd.data());
    });
    close(name, ey, y);
    close(name + " mean", emean, mean);
    close(name + " rstd", erstd, rstd);
    simt_launch("layer_norm_backward", dim3{(unsigned)rows, 1, 1}, row_threads(n), [&] {
        layer_norm_backward(x.data(), weight, mean.data(), rstd.data(), gy.data(), DT_F32, rms ? 1 : 0, n, gx.data());
    });
    close(name + " backward", egx, gx);
    {
        // The gradient held in bf16 (the next projection's input gradient): the same bits as its float32 values give.
        std::vector<u16> held(gy.size());
        std::vector<float> widened(gy.size()), g16(gx.size(), NAN), g32(gx.size(), NAN);
        for (size_t i = 0; i < held.size(); ++i) { held[i] = f32_to_bf16(gy[i]); widened[i] = bf16_to_f32(held[i]); }
        simt_launch("layer_norm_backward", dim3{(unsigned)rows, 1, 1}, row_threads(n), [&] { layer_norm_backward(x.data(), weight, mean.data(), rstd.data(), held.data(), DT_BF16, rms ? 1 : 0, n, g16.data()); });
        simt_launch("layer_norm_backward", dim3{(unsigned)rows, 1, 1}, row_threads(n), [&] { layer_norm_backward(x.data(), weight, mean.data(), rstd.data(), widened.data(), DT_F32, rms ? 1 : 0, n, g32.data()); });
        check(g16 == g32, name + " backward with the gradient held in bf16: the float32 kernel's bits");
        if (affine) {
            const int chunk = 32, chunks = (rows + chunk - 1) / chunk;
            std::vector<float> w16((size_t)chunks * n, NAN), w32((size_t)chunks * n, NAN), b16(w16.size(), NAN), b32(w16.size(), NAN);
            simt_launch("layer_norm_param_grads", dim3{(unsigned)chunks, (unsigned)((n + 255) / 256), 1}, 256, [&] { layer_norm_param_grads(x.data(), mean.data(), rstd.data(), held.data(), DT_BF16, rows, n, chunk, w16.data(), b16.data()); });
            simt_launch("layer_norm_param_grads", dim3{(unsigned)chunks, (unsigned)((n + 255) / 256), 1}, 256, [&] { layer_norm_param_grads(x.data(), mean.data(), rstd.data(), widened.data(), DT_F32, rows, n, chunk, w32.data(), b32.data()); });
            check(w16 == w32 && b16 == b32, name + " parameter gradients with the gradient held in bf16: the float32 kernel's bits");
        }
    }
    if (!affine) return;
    // The parameter gradients: chunk partial sums (grid x = chunks, y = column blocks), then the chunks summed in order.
    const int chunk = 32, chunks = (rows + chunk - 1) / chunk;
    std::vector<float> pw((size_t)chunks * n, NAN), pb((size_t)chunks * n, NAN), gw(n, 0), gb(n, 0);
    simt_launch("layer_norm_param_grads", dim3{(unsigned)chunks, (unsigned)((n + 255) / 256), 1}, 256, [&] {
        layer_norm_param_grads(x.data(), mean.data(), rstd.data(), gy.data(), DT_F32, rows, n, chunk, pw.data(), pb.data());
    });
    for (int c = 0; c < chunks; ++c)
        for (int j = 0; j < n; ++j) { gw[j] += pw[(size_t)c * n + j]; gb[j] += pb[(size_t)c * n + j]; }
    close(name + " weight gradient", egw, gw);
    close(name + " bias gradient", egb, gb);
}

int main() {
    for (int n : {7, 65, 1000}) softmax_case(5, n);
    cross_entropy_case(11, 65, 0.f);
    cross_entropy_case(11, 1000, 0.1f);
    for (int n : {7, 384, 1000}) {
        norm_case(70, n, false, true);
        norm_case(9, n, false, false);
        norm_case(70, n, true, true);
    }
    return simt_report();
}
