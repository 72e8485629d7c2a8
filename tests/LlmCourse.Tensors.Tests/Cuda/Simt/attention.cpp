// The fused attention kernels on the CPU emulator (simt.h), against attention computed here in double:
// attention_mma.cu (tensor cores, bf16 and fp16, under autocast) and attention.cu (float32), forward (output
// and log-sum-exp) and backward (dq, dk, dv through attention_delta), launched as CudaBackend.Attention.cs
// launches them: causal or not, T != S, head sizes 16 ... 128 (both tensor-core sizes, zero-padded), Dv != D,
// dropout, the model's time-major layout (heads inside each time step, two batch dims), more rows than one
// block. Tolerances (|kernel - reference| / |reference| over the whole tensor): float32 kernels 2e-5 (sums in
// another order); tensor-core kernels 1e-2 (the reference multiplies the 16-bit-rounded q, k, v, dO exactly,
// the kernels also round P and dS to 16 bits before their second products: ~2^-9 per term), and every element
// within 5e-2 + 5e-2 |x|. A fragment in the wrong place, a wrong mask or a lost rescaling errs by O(1).
// The tensor-core kernels then run again with every block held in 16 bits (read and written as 16-bit values),
// which must give the float32 blocks' values bit for bit.
#include "simt.h"
#include "harness.h"
#include "common.cuh"
#include "attention_mma.cu"   // first: attention.cu #defines TILE, a template parameter's name here
#include "attention.cu"

#include <random>
#include <string>


static float round_to(float x, int format) {   // 0: none, 1: bf16, 2: fp16
    if (format == 1) return bf16_to_f32(f32_to_bf16(x));
    if (format == 2) return f16_to_f32(f32_to_f16(x));
    return x;
}

// A [B, H, rows, cols] tensor stored head-major ([B][H][rows][cols], rank 1 batch of B*H) or time-major
// ([B][rows][H][cols] seen as [B, H, rows, cols]: the model's q, k, v views), as AttnLayout describes it, starting
// `shift` elements into its block (a view at an offset: shift 3 puts every row off the 16-byte alignment the kernels'
// wide loads need, so they take the element loop).
struct Operand {
    int B, H, rows, cols;
    bool timeMajor;
    int shift;
    std::vector<float> data;
    Operand(int b, int h, int r, int c, bool tm, int sh = 0)
        : B(b), H(h), rows(r), cols(c), timeMajor(tm), shift(sh), data((size_t)sh + (size_t)b * h * r * c) {}
    size_t at(int b, int h, int i, int j) const {
        return shift + (timeMajor ? (((size_t)b * rows + i) * H + h) * cols + j : (((size_t)b * H + h) * rows + i) * cols + j);
    }
    float& operator()(int bh, int i, int j) { return data[at(bh / H, bh % H, i, j)]; }
    float operator()(int bh, int i, int j) const { return data[at(bh / H, bh % H, i, j)]; }
    int ld() const { return timeMajor ? H * cols : cols; }
    i64 strideB() const { return (i64)rows * H * cols; }
    i64 strideH() const { return timeMajor ? cols : (i64)rows * cols; }
};

static void describe(AttnLayout& L, int operand, const Operand& t) {
    L.offsets[operand] = t.shift;
    L.ld[operand] = t.ld();
    L.strides[operand][0] = (int)t.strideB();
    L.strides[operand][1] = (int)t.strideH();
}

struct Case {
    int B, H, T, S, D, Dv;
    bool causal;
    float dropout;
    bool timeMajor;
    int shift = 0;   // of every operand's first element in its block (Operand)
};

struct Result {
    std::vector<double> out, lse, gq, gk, gv;
};

// softmax(scale q k^T) v with the kernels' mask and dropout (the same kept()), and its gradients for dO.
static Result reference(const Case& c, const Operand& q, const Operand& k, const Operand& v, const Operand& go, float scale,
                        unsigned long long seed) {
    const int BH = c.B * c.H;
    Result r;
    r.out.assign((size_t)BH * c.T * c.Dv, 0);
    r.lse.assign((size_t)BH * c.T, 0);
    r.gq.assign((size_t)BH * c.T * c.D, 0);
    r.gk.assign((size_t)BH * c.S * c.D, 0);
    r.gv.assign((size_t)BH * c.S * c.Dv, 0);
    const float keep = 1.f - c.dropout;
    const double keepScale = c.dropout > 0 ? 1.0 / keep : 1.0;
    std::vector<double> p(c.S), pd(c.S), dp(c.S);
    for (int b = 0; b < BH; ++b)
        for (int i = 0; i < c.T; ++i) {
            double m = -INFINITY;
            for (int j = 0; j < c.S; ++j) {
                p[j] = -INFINITY;
                if (c.causal && j > i) continue;
                double s = 0;
                for (int d = 0; d < c.D; ++d) s += (double)q(b, i, d) * k(b, j, d);
                p[j] = s * scale;
                m = std::max(m, p[j]);
            }
            double l = 0;
            for (int j = 0; j < c.S; ++j) { p[j] = std::exp(p[j] - m); l += p[j]; }
            for (int j = 0; j < c.S; ++j) {
                p[j] /= l;
                const bool dropped = c.dropout > 0 && !kept(seed, b, c.T, c.S, i, j, keep);
                pd[j] = dropped ? 0 : p[j] * keepScale;
            }
            r.lse[(size_t)b * c.T + i] = m + std::log(l);
            for (int e = 0; e < c.Dv; ++e) {
                double o = 0;
                for (int j = 0; j < c.S; ++j) o += pd[j] * v(b, j, e);
                r.out[((size_t)b * c.T + i) * c.Dv + e] = o;
            }
            // Backward: dP_ij = dO_i . v_j (through the dropout mask), dS = P (dP - sum_j P dP), dq = scale dS k.
            double delta = 0;
            for (int j = 0; j < c.S; ++j) {
                double s = 0;
                for (int e = 0; e < c.Dv; ++e) s += (double)go(b, i, e) * v(b, j, e);
                const bool dropped = c.dropout > 0 && !kept(seed, b, c.T, c.S, i, j, keep);
                dp[j] = dropped ? 0 : s * keepScale;
                delta += p[j] * dp[j];
            }
            for (int j = 0; j < c.S; ++j) {
                const double ds = p[j] * (dp[j] - delta);
                for (int d = 0; d < c.D; ++d) {
                    r.gq[((size_t)b * c.T + i) * c.D + d] += scale * ds * k(b, j, d);
                    r.gk[((size_t)b * c.S + j) * c.D + d] += scale * ds * q(b, i, d);
                }
                for (int e = 0; e < c.Dv; ++e) r.gv[((size_t)b * c.S + j) * c.Dv + e] += pd[j] * go(b, i, e);
            }
        }
    return r;
}

static void compare(const std::string& what, const std::vector<double>& expected, const Operand& actual, double relBound,
                    double atol, double rtol) {
    double diff = 0, norm = 0, worst = 0;
    size_t n = 0, bad = 0, worstAt = 0;
    const int BH = actual.B * actual.H;
    for (int b = 0; b < BH; ++b)
        for (int i = 0; i < actual.rows; ++i)
            for (int j = 0; j < actual.cols; ++j, ++n) {
                const double e = expected[n], a = actual(b, i, j);
                const double dd = std::fabs(a - e);
                if (!(dd <= atol + rtol * std::fabs(e))) { bad++; if (!(dd <= worst)) { worst = dd; worstAt = n; } }
                diff += (a - e) * (a - e);
                norm += e * e;
            }
    const double rel = std::sqrt(diff / std::max(norm, 1e-300));
    char line[256];
    std::snprintf(line, sizeof line, "%s: relative error %.2e (bound %.0e), %zu of %zu beyond %.0e + %.0e|x| (worst %.3g at %zu)", what.c_str(),
                  rel, relBound, bad, n, atol, rtol, worst, worstAt);
    check(rel <= relBound && bad == 0, line);
}

// The tensor-core kernels again with every operand's block held in 16 bits (CudaStorage.HeldAs: q, k, v and dO read
// as 16-bit values, the output and the gradients stored so, attention_delta reading both held): the values the
// float32 blocks gave, bit for bit, since those were rounded to the same 16-bit values as they were read and stored.
static void held_case(const Case& c, int format, const AttnLayout& L, const Operand& q, const Operand& k, const Operand& v,
                      const Operand& go, const Operand& out, const Operand& gq, const Operand& gk, const Operand& gv,
                      const std::vector<float>& lse, const std::vector<float>& delta, float scale, unsigned long long dropSeed,
                      int precision, const char* name) {
    auto narrow = [&](const Operand& t) {
        std::vector<u16> h(t.data.size());
        for (size_t i = 0; i < h.size(); ++i) h[i] = format == 1 ? f32_to_bf16(t.data[i]) : f32_to_f16(t.data[i]);
        return h;
    };
    auto wide = [&](u16 h) { return format == 1 ? bf16_to_f32(h) : f16_to_f32(h); };
    const std::vector<u16> q16 = narrow(q), k16 = narrow(k), v16 = narrow(v), g16 = narrow(go);
    std::vector<u16> o16(out.data.size(), 0xffff), gq16(gq.data.size(), 0xffff), gk16(gk.data.size(), 0xffff), gv16(gv.data.size(), 0xffff);
    std::vector<float> lse2(lse.size(), NAN), delta2(delta.size(), NAN);
    const int BH = c.B * c.H, causal = c.causal ? 1 : 0, held = 255, head = std::max(c.D, c.Dv) <= 64 ? 64 : 128;
    const bool f16 = format == 2;
    simt_launch("attention_forward_mma", dim3{(unsigned)((c.T + 63) / 64), (unsigned)BH, 1}, 128, [&] {
        auto f = f16 ? (head == 64 ? attention_forward_mma_f16_64 : attention_forward_mma_f16_128)
                     : (head == 64 ? attention_forward_mma_bf16_64 : attention_forward_mma_bf16_128);
        f(L, q16.data(), k16.data(), v16.data(), o16.data(), lse2.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, held);
    });
    simt_launch("attention_delta", dim3{(unsigned)(((i64)BH * c.T + 7) / 8), 1, 1}, 256, [&] {
        attention_delta(L, o16.data(), precision, g16.data(), precision, delta2.data(), c.T, c.Dv, precision, BH);
    });
    simt_launch("attention_backward_dq_mma", dim3{(unsigned)((c.T + 63) / 64), (unsigned)BH, 1}, 128, [&] {
        auto f = f16 ? (head == 64 ? attention_backward_dq_mma_f16_64 : attention_backward_dq_mma_f16_128)
                     : (head == 64 ? attention_backward_dq_mma_bf16_64 : attention_backward_dq_mma_bf16_128);
        f(L, q16.data(), k16.data(), v16.data(), g16.data(), lse2.data(), delta2.data(), gq16.data(), c.T, c.S, c.D, c.Dv, causal, scale,
          c.dropout, dropSeed, BH, held);
    });
    simt_launch("attention_backward_dkdv_mma", dim3{(unsigned)((c.S + 63) / 64), (unsigned)BH, 1}, 128, [&] {
        auto f = f16 ? (head == 64 ? attention_backward_dkdv_mma_f16_64 : attention_backward_dkdv_mma_f16_128)
                     : (head == 64 ? attention_backward_dkdv_mma_bf16_64 : attention_backward_dkdv_mma_bf16_128);
        f(L, q16.data(), k16.data(), v16.data(), g16.data(), lse2.data(), delta2.data(), gk16.data(), gv16.data(), c.T, c.S, c.D, c.Dv, causal,
          scale, c.dropout, dropSeed, BH, held);
    });
    auto same = [&](const std::vector<u16>& h, const Operand& f) {
        size_t bad = 0;
        for (size_t i = 0; i < h.size(); ++i) bad += !(std::isnan(f.data[i]) ? std::isnan(wide(h[i])) : wide(h[i]) == f.data[i]);
        return bad;
    };
    auto sameFloats = [](const std::vector<float>& a, const std::vector<float>& b) {
        size_t bad = 0;
        for (size_t i = 0; i < a.size(); ++i) bad += !(std::isnan(a[i]) ? std::isnan(b[i]) : a[i] == b[i]);
        return bad;
    };
    const size_t bad = same(o16, out) + same(gq16, gq) + same(gk16, gk) + same(gv16, gv) + sameFloats(lse2, lse) + sameFloats(delta2, delta);
    check(bad == 0, std::string(name) + " with every block held in 16 bits: the float32 blocks' values bit for bit (" + std::to_string(bad) +
                    " differ)");
}

static void run_case(const Case& c, int format /* 0 float32 kernels, 1 bf16 mma, 2 fp16 mma */, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    Operand q(c.B, c.H, c.T, c.D, c.timeMajor, c.shift), k(c.B, c.H, c.S, c.D, c.timeMajor, c.shift),
        v(c.B, c.H, c.S, c.Dv, c.timeMajor, c.shift);
    Operand go(c.B, c.H, c.T, c.Dv, false, c.shift);
    for (auto* t : {&q, &k, &v, &go})
        for (auto& x : t->data) x = normal(rng);
    // The reference sees what the kernels multiply: autocast's rounded q, k, v and dO. The tensor-core kernels
    // (and attention_delta) round them as they read them, so they get them unrounded, as on the GPU.
    Operand qr = q, kr = k, vr = v, gor = go;
    for (auto* t : {&qr, &kr, &vr, &gor})
        for (auto& x : t->data) x = round_to(x, format);
    const float scale = 1.f / std::sqrt((float)c.D);
    const unsigned long long dropSeed = 0x1234567890abcdefull + seed;
    const Result ref = reference(c, qr, kr, vr, gor, scale, dropSeed);

    Operand out(c.B, c.H, c.T, c.Dv, c.timeMajor, c.shift), gq(c.B, c.H, c.T, c.D, c.timeMajor, c.shift),
        gk(c.B, c.H, c.S, c.D, c.timeMajor, c.shift), gv(c.B, c.H, c.S, c.Dv, c.timeMajor, c.shift);
    for (auto* t : {&out, &gq, &gk, &gv}) std::fill(t->data.begin(), t->data.end(), NAN);
    const int BH = c.B * c.H;
    std::vector<float> lse((size_t)BH * c.T, NAN), delta((size_t)BH * c.T, NAN);
    AttnLayout L{};
    L.rank = 2;
    L.shape[0] = c.B;
    L.shape[1] = c.H;
    describe(L, 0, q);
    describe(L, 1, k);
    describe(L, 2, v);
    describe(L, 3, out);
    describe(L, 4, go);
    describe(L, 5, gq);
    describe(L, 6, gk);
    describe(L, 7, gv);
    const int causal = c.causal ? 1 : 0;
    // The float32 kernels get the rounded values too: then every kernel answers the same question.
    const float *Q = qr.data.data(), *K = kr.data.data(), *V = vr.data.data(), *G = format == 0 ? gor.data.data() : go.data.data();
    const int precision = format == 0 ? 0 : format == 1 ? 2 : 3;   // the DType codes of common.cuh

    char name[160];
    std::snprintf(name, sizeof name, "%s B=%d H=%d T=%d S=%d D=%d Dv=%d %s%s%s%s", format == 0 ? "float32" : format == 1 ? "bf16 mma" : "fp16 mma",
                  c.B, c.H, c.T, c.S, c.D, c.Dv, c.causal ? "causal" : "full", c.dropout > 0 ? " dropout" : "", c.timeMajor ? " time-major" : "", c.shift ? " offset" : "");
    if (format == 0) {
        const dim3 fwd{(unsigned)((c.T + 7) / 8), (unsigned)BH, 1};
        simt_launch("attention_forward", fwd, 256, [&] {
            attention_forward(L, Q, K, V, out.data.data(), lse.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed);
        });
    } else {
        // Tensor-core kernels take q, k, v as they are (unrounded) and round as they load, as on the GPU.
        const int head = std::max(c.D, c.Dv) <= 64 ? 64 : 128;
        const dim3 grid{(unsigned)((c.T + 63) / 64), (unsigned)BH, 1};
        simt_launch("attention_forward_mma", grid, 128, [&] {
            const float *q0 = q.data.data(), *k0 = k.data.data(), *v0 = v.data.data();
            if (format == 1 && head == 64) attention_forward_mma_bf16_64(L, q0, k0, v0, out.data.data(), lse.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
            if (format == 1 && head == 128) attention_forward_mma_bf16_128(L, q0, k0, v0, out.data.data(), lse.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
            if (format == 2 && head == 64) attention_forward_mma_f16_64(L, q0, k0, v0, out.data.data(), lse.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
            if (format == 2 && head == 128) attention_forward_mma_f16_128(L, q0, k0, v0, out.data.data(), lse.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
        });
    }
    const double rel = format == 0 ? 2e-5 : 1e-2, atol = format == 0 ? 1e-4 : 5e-2, rtol = format == 0 ? 1e-3 : 5e-2;
    compare(std::string(name) + " output", ref.out, out, rel, atol, rtol);
    double lseWorst = 0;
    for (size_t i = 0; i < lse.size(); ++i) lseWorst = std::max(lseWorst, std::fabs(lse[i] - ref.lse[i]) + (std::isnan(lse[i]) ? 1e9 : 0));
    check(lseWorst <= (format == 0 ? 1e-4 : 1e-2), std::string(name) + " log-sum-exp: worst |diff| " + std::to_string(lseWorst));

    // Backward, with the kernel's own output and log-sum-exp (as on the GPU); the tensor-core kernels' output is
    // autocast's already (every value a 16-bit one), checked below with the gradients.
    simt_launch("attention_delta", dim3{(unsigned)(((i64)BH * c.T + 7) / 8), 1, 1}, 256, [&] {
        attention_delta(L, out.data.data(), DT_F32, G, DT_F32, delta.data(), c.T, c.Dv, precision, BH);
    });
    if (format == 0) {
        simt_launch("attention_backward_dq", dim3{(unsigned)((c.T + 7) / 8), (unsigned)BH, 1}, 256, [&] {
            attention_backward_dq(L, Q, K, V, G, lse.data(), delta.data(), gq.data.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed);
        });
        simt_launch("attention_backward_dkdv", dim3{(unsigned)((c.S + 7) / 8), (unsigned)BH, 1}, 256, [&] {
            attention_backward_dkdv(L, Q, K, V, G, lse.data(), delta.data(), gk.data.data(), gv.data.data(), c.T, c.S, c.D, c.Dv, causal, scale,
                                    c.dropout, dropSeed);
        });
    } else {
        const int head = std::max(c.D, c.Dv) <= 64 ? 64 : 128;
        const float *q0 = q.data.data(), *k0 = k.data.data(), *v0 = v.data.data();
        simt_launch("attention_backward_dq_mma", dim3{(unsigned)((c.T + 63) / 64), (unsigned)BH, 1}, 128, [&] {
            if (format == 1 && head == 64) attention_backward_dq_mma_bf16_64(L, q0, k0, v0, G, lse.data(), delta.data(), gq.data.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
            if (format == 1 && head == 128) attention_backward_dq_mma_bf16_128(L, q0, k0, v0, G, lse.data(), delta.data(), gq.data.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
            if (format == 2 && head == 64) attention_backward_dq_mma_f16_64(L, q0, k0, v0, G, lse.data(), delta.data(), gq.data.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
            if (format == 2 && head == 128) attention_backward_dq_mma_f16_128(L, q0, k0, v0, G, lse.data(), delta.data(), gq.data.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
        });
        simt_launch("attention_backward_dkdv_mma", dim3{(unsigned)((c.S + 63) / 64), (unsigned)BH, 1}, 128, [&] {
            if (format == 1 && head == 64) attention_backward_dkdv_mma_bf16_64(L, q0, k0, v0, G, lse.data(), delta.data(), gk.data.data(), gv.data.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
            if (format == 1 && head == 128) attention_backward_dkdv_mma_bf16_128(L, q0, k0, v0, G, lse.data(), delta.data(), gk.data.data(), gv.data.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
            if (format == 2 && head == 64) attention_backward_dkdv_mma_f16_64(L, q0, k0, v0, G, lse.data(), delta.data(), gk.data.data(), gv.data.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
            if (format == 2 && head == 128) attention_backward_dkdv_mma_f16_128(L, q0, k0, v0, G, lse.data(), delta.data(), gk.data.data(), gv.data.data(), c.T, c.S, c.D, c.Dv, causal, scale, c.dropout, dropSeed, BH, 0);
        });
    }
    const double grel = format == 0 ? 5e-5 : 1.5e-2;
    compare(std::string(name) + " dq", ref.gq, gq, grel, atol, rtol);
    compare(std::string(name) + " dk", ref.gk, gk, grel, atol, rtol);
    compare(std::string(name) + " dv", ref.gv, gv, grel, atol, rtol);
    if (format != 0) {
        const char* what[] = {"output", "dq", "dk", "dv"};
        int i = 0;
        for (const Operand* t : {&out, &gq, &gk, &gv}) {
            size_t bad = 0;
            for (float x : t->data) bad += !std::isnan(x) && round_to(x, format) != x;
            check(bad == 0, std::string(name) + " " + what[i++] + ": every value stored as a 16-bit one (" + std::to_string(bad) + " not)");
        }
        held_case(c, format, L, q, k, v, go, out, gq, gk, gv, lse, delta, scale, dropSeed, precision, name);
    }
}

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
    const Case cases[] = {
        {1, 2, 77, 77, 32, 32, true, 0.f, false},     // rows not a multiple of a block or a tile
        {1, 2, 70, 70, 64, 64, false, 0.f, false},    // full attention, the benchmarks' head size
        {2, 1, 9, 100, 48, 40, false, 0.f, false},    // T != S, D != Dv, both padded to 64
        {1, 2, 130, 130, 64, 64, true, 0.f, true},    // the model's time-major q, k, v; three row blocks
        {1, 1, 45, 45, 16, 16, true, 0.2f, false},    // dropout
        {1, 1, 80, 80, 128, 128, true, 0.f, false},   // the 128 kernels (tiles of 32)
        {1, 1, 33, 40, 96, 112, false, 0.f, true},    // 128 kernels with padding, time-major
        {1, 2, 70, 70, 64, 64, true, 0.f, true, 3},   // head size 64 at an offset off 16 bytes: the element loads
    };
    int index = 0;
    for (const Case& c : cases) {
        if (quick && index > 1) break;
        for (int format = 0; format <= 2; ++format) {
            if (format == 2 && index % 3 != 1) continue;   // fp16 on a few cases: the same kernels, another conversion
            run_case(c, format, 100 + index);
        }
        ++index;
    }
    return simt_report();
}
