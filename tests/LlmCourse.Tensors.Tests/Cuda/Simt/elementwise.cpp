// elementwise.cu on the CPU emulator (simt.h), launched as CudaBackend.Elementwise.cs launches it: 256 threads and
// a small grid so the grid-stride loops wrap; the Layout filled by hand as CudaLayout.Of would (operand 0 the output):
// - every unary forward and backward (UnaryOp order) over a transposed view, against the formula in double;
// - binary ops with a broadcast bias row (stride 0) and a sliced, offset operand; binary_scalar both ways;
// - compare on float and int operands; where_select; scale_add on rank 3 with odd sizes (3x37x5);
// - copy_strided f32 -> bf16 (round to nearest even, a tie, NaN), bf16/f16 -> f32, f32 -> i32, i32 -> f32;
//   fill_strided on a sliced view (what lies outside untouched); round_to; to_bf16;
// - inputs held in 16 bits (bf16/f16 blocks of float32 tensors) read by unary, unary backward, binary, scale_add;
//   widen_16; dropout's counter-based decisions.
#include "simt.h"
#include "harness.h"
#include "common.cuh"
#include "elementwise.cu"

#include <cmath>
#include <random>
#include <string>


static const unsigned Threads = 256;
static dim3 grid_for(long long n, unsigned cap = 2) { return dim3{(unsigned)std::max(1LL, std::min((n + Threads - 1) / Threads, (long long)cap)), 1, 1}; }

// A Layout by hand: shape, then per operand its offset and strides (elements).
static Layout layout(std::vector<int> shape, std::vector<std::pair<i64, std::vector<int>>> ops) {
    Layout L{};
    L.rank = (int)shape.size();
    for (int d = 0; d < L.rank; ++d) L.shape[d] = shape[d];
    for (size_t o = 0; o < ops.size(); ++o) {
        L.offsets[o] = ops[o].first;
        for (int d = 0; d < L.rank; ++d) L.strides[o][d] = ops[o].second[d];
    }
    return L;
}

static bool close(double got, double want) {
    if (std::isnan(want)) return std::isnan(got);
    if (std::isinf(want)) return got == want;
    return std::fabs(got - want) <= 1e-6 + 2e-5 * std::fabs(want);
}

static double sig(double x) { return 1 / (1 + std::exp(-x)); }

static double unary_ref(int op, double x, double a, double b) {
    switch (op) {
        case 0: return -x;
        case 1: return std::exp(x);
        case 2: return std::log(x);
        case 3: return std::sqrt(x);
        case 4: return 1 / std::sqrt(x);
        case 5: return std::tanh(x);
        case 6: return sig(x);
        case 7: return x > 0 ? x : 0;
        case 8: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
        case 9: return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
        case 10: return std::fabs(x);
        case 11: return x * x;
        case 12: return std::pow(x, a);
        case 13: return std::min(std::max(x, a), b);
        case 14: return std::log(sig(x));
        case 15: return std::sin(x);
        case 16: return std::cos(x);
        case 17: return 1 / x;
        case 18: return x * sig(x);
        default: return std::log1p(std::exp(x));
    }
}

// f'(x) by the formula.
static double unary_dref(int op, double x, double a, double b) {
    switch (op) {
        case 0: return -1;
        case 1: return std::exp(x);
        case 2: return 1 / x;
        case 3: return 0.5 / std::sqrt(x);
        case 4: return -0.5 * std::pow(x, -1.5);
        case 5: return 1 - std::tanh(x) * std::tanh(x);
        case 6: return sig(x) * (1 - sig(x));
        case 7: return x > 0 ? 1 : 0;
        case 8: return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
        case 9: {
            const double k = std::sqrt(2 / M_PI), t = std::tanh(k * (x + 0.044715 * x * x * x));
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
        }
        case 10: return x > 0 ? 1 : x < 0 ? -1 : 0;
        case 11: return 2 * x;
        case 12: return a * std::pow(x, a - 1);
        case 13: return x >= a && x <= b ? 1 : 0;
        case 14: return sig(-x);
        case 15: return std::cos(x);
        case 16: return -std::sin(x);
        case 17: return -1 / (x * x);
        case 18: return sig(x) * (1 + x * (1 - sig(x)));
        default: return sig(x);
    }
}

static const char* UnaryNames[] = {"Neg", "Exp", "Log", "Sqrt", "Rsqrt", "Tanh", "Sigmoid", "Relu", "Gelu", "GeluTanh",
                                   "Abs", "Square", "Pow", "Clamp", "LogSigmoid", "Sin", "Cos", "Reciprocal", "Silu", "Softplus"};

// bf16 round to nearest even by value, in double: the nearer of the two neighbours, the even one on a tie.
static u16 bf16_ref(float f) {
    unsigned u; std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u16)((u >> 16) | 0x40);
    const u16 lo = (u16)(u >> 16), hi = (u16)(lo + 1);
    const double dl = std::fabs((double)bf16_to_f32(lo) - f), dh = std::fabs((double)bf16_to_f32(hi) - f);
    if (dl < dh) return lo;
    if (dh < dl) return hi;
    return (lo & 1) ? hi : lo;
}

int main() {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uni(-3.f, 3.f);

    // Unary forward/backward: x is the transpose of a 23x29 row-major buffer (shape 29x23, strides {1, 29});
    // y and gx contiguous 29x23; gy and the forward output y handed to the backward read transposed as well.
    {
        const int R = 29, C = 23, n = R * C;
        std::vector<float> x(n), gy(n);
        for (auto& v : x) v = uni(rng);
        for (auto& v : gy) v = uni(rng);
        x[5] = 0.f; x[6] = -1.f; x[7] = 1.f;   // kinks of Relu, Abs, Clamp bounds
        const Layout Lf = layout({R, C}, {{0, {C, 1}}, {0, {1, R}}});
        const Layout Lb = layout({R, C}, {{0, {C, 1}}, {0, {1, R}}, {0, {1, R}}, {0, {1, R}}});   // y read transposed too
        for (int op = 0; op < 20; ++op) {
            const bool positive = op == 2 || op == 3 || op == 4 || op == 12;   // Log, Sqrt, Rsqrt, Pow: x > 0
            std::vector<float> xs = x;
            if (positive) for (auto& v : xs) v = std::fabs(v) + 0.1f;
            const float alpha = op == 12 ? 2.5f : op == 13 ? -1.f : 0.f, beta = op == 13 ? 1.5f : 0.f;
            std::vector<float> y(n, NAN), gx(n, NAN);
            simt_launch("unary_forward", grid_for(n), Threads, [&] { unary_forward(Lf, op, y.data(), DT_F32, xs.data(), DT_F32, alpha, beta, n); });
            std::vector<float> yt(n);
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) yt[c * R + r] = y[r * C + c];
            simt_launch("unary_backward", grid_for(n), Threads, [&] {
                unary_backward(Lb, op, gx.data(), DT_F32, xs.data(), DT_F32, gy.data(), DT_F32, yt.data(), DT_F32, alpha, beta, n);
            });
            bool okf = true, okb = true;
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) {
                    const double xv = xs[c * R + r], g = gy[c * R + r];
                    okf = okf && close(y[r * C + c], unary_ref(op, xv, alpha, beta));
                    okb = okb && close(gx[r * C + c], g * unary_dref(op, xv, alpha, beta));
                }
            check(okf, std::string("unary_forward ") + UnaryNames[op] + " on a transposed view");
            check(okb, std::string("unary_backward ") + UnaryNames[op] + " on a transposed view");
        }
    }

    // Binary: y[r, c] = a[r, c] op bias[c] (stride 0 along rows), and with b a sliced view of a wider buffer at an offset.
    {
        const int R = 17, C = 41, n = R * C, W = 50, off = 3;
        std::vector<float> a(n), bias(C), wide((size_t)R * W);
        for (auto& v : a) v = uni(rng);
        for (auto& v : bias) v = uni(rng);
        for (auto& v : wide) v = uni(rng);
        a[0] = NAN;
        const char* names[] = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"};
        for (int op = 0; op < 7; ++op) {
            std::vector<float> aa = a;
            if (op == 4) for (auto& v : aa) if (!std::isnan(v)) v = std::fabs(v) + 0.1f;
            auto ref = [&](double u, double v) -> double {
                if (std::isnan(u) || std::isnan(v)) return NAN;
                switch (op) { case 0: return u + v; case 1: return u - v; case 2: return u * v; case 3: return u / v;
                              case 4: return std::pow(u, v); case 5: return std::max(u, v); default: return std::min(u, v); }
            };
            std::vector<float> y(n, NAN), y2(n, NAN);
            const Layout Lbias = layout({R, C}, {{0, {C, 1}}, {0, {C, 1}}, {0, {0, 1}}});
            const Layout Lslice = layout({R, C}, {{0, {C, 1}}, {0, {C, 1}}, {off, {W, 1}}});
            simt_launch("binary", grid_for(n), Threads, [&] { binary(Lbias, op, y.data(), aa.data(), DT_F32, bias.data(), DT_F32, n); });
            simt_launch("binary", grid_for(n), Threads, [&] { binary(Lslice, op, y2.data(), aa.data(), DT_F32, wide.data(), DT_F32, n); });
            bool ok1 = true, ok2 = true;
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) {
                    ok1 = ok1 && close(y[r * C + c], ref(aa[r * C + c], bias[c]));
                    ok2 = ok2 && close(y2[r * C + c], ref(aa[r * C + c], wide[(size_t)r * W + off + c]));
                }
            check(ok1, std::string("binary ") + names[op] + " with a broadcast bias row (NaN propagates)");
            check(ok2, std::string("binary ") + names[op] + " with a sliced operand at an offset");
        }
        // binary_scalar: Sub and Div are not symmetric, so scalarFirst shows.
        const Layout L2 = layout({R, C}, {{0, {C, 1}}, {0, {1, R}}});   // a read transposed
        for (int first = 0; first < 2; ++first)
            for (int op : {1, 3}) {
                std::vector<float> y(n, NAN);
                simt_launch("binary_scalar", grid_for(n), Threads, [&] { binary_scalar(L2, op, y.data(), a.data(), DT_F32, 2.5f, first, n); });
                bool ok = true;
                for (int r = 0; r < R; ++r)
                    for (int c = 0; c < C; ++c) {
                        const double v = a[c * R + r], s = 2.5;
                        const double want = std::isnan(v) ? NAN : op == 1 ? (first ? s - v : v - s) : (first ? s / v : v / s);
                        ok = ok && close(y[r * C + c], want);
                    }
                check(ok, std::string("binary_scalar ") + (op == 1 ? "Sub" : "Div") + (first ? " scalar first" : " scalar second"));
            }
    }

    // Compare: float a against int b (a broadcast column), all six ops; and int against int with values beyond 2^24.
    {
        const int R = 13, C = 31, n = R * C;
        std::vector<float> a(n);
        std::vector<int> b(R);
        for (auto& v : a) v = (float)(int)uni(rng);   // integers, so equality happens
        for (auto& v : b) v = (int)uni(rng);
        const Layout L = layout({R, C}, {{0, {C, 1}}, {0, {C, 1}}, {0, {1, 0}}});
        const char* names[] = {"Eq", "Ne", "Gt", "Ge", "Lt", "Le"};
        for (int op = 0; op < 6; ++op) {
            std::vector<float> y(n, NAN);
            simt_launch("compare", grid_for(n), Threads, [&] { compare(L, op, y.data(), a.data(), DT_F32, b.data(), DT_I32, n); });
            bool ok = true;
            for (int r = 0; r < R; ++r)
                for (int c = 0; c < C; ++c) {
                    const double u = a[r * C + c], v = b[r];
                    const bool h = op == 0 ? u == v : op == 1 ? u != v : op == 2 ? u > v : op == 3 ? u >= v : op == 4 ? u < v : u <= v;
                    ok = ok && y[r * C + c] == (h ? 1.f : 0.f);
                }
            check(ok, std::string("compare ") + names[op] + " float against a broadcast int column");
        }
        std::vector<int> p = {16777217, 16777216, -5, 7}, q = {16777216, 16777216, -5, 8};
        std::vector<float> y(4, NAN);
        const Layout L1 = layout({4}, {{0, {1}}, {0, {1}}, {0, {1}}});
        simt_launch("compare", grid_for(4), Threads, [&] { compare(L1, 0, y.data(), p.data(), DT_I32, q.data(), DT_I32, 4); });
        check(y[0] == 0.f && y[1] == 1.f && y[2] == 1.f && y[3] == 0.f, "compare Eq int against int exactly (2^24 + 1 != 2^24)");
    }

    // where_select with a broadcast condition row; scale_add on rank 3 with odd sizes, x read with permuted strides.
    {
        const int R = 9, C = 35, n = R * C;
        std::vector<float> cnd(C), a(n), b(n), y(n, NAN);
        for (int c = 0; c < C; ++c) cnd[c] = c % 3 == 0 ? 0.f : c % 3 == 1 ? 1.f : -2.f;
        for (auto& v : a) v = uni(rng);
        for (auto& v : b) v = uni(rng);
        const Layout L = layout({R, C}, {{0, {C, 1}}, {0, {0, 1}}, {0, {C, 1}}, {0, {C, 1}}});
        simt_launch("where_select", grid_for(n), Threads, [&] { where_select(L, y.data(), cnd.data(), a.data(), b.data(), n); });
        bool ok = true;
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) ok = ok && y[r * C + c] == (cnd[c] != 0.f ? a[r * C + c] : b[r * C + c]);
        check(ok, "where_select with a broadcast condition row (nonzero picks a)");

        const int D0 = 3, D1 = 37, D2 = 5, m = D0 * D1 * D2;
        std::vector<float> x(m), y0(m);
        for (auto& v : x) v = uni(rng);
        for (auto& v : y0) v = uni(rng);
        // x stored as [D2][D0][D1], read as [D0][D1][D2]: strides {D1, 1, D0*D1}.
        const Layout L3 = layout({D0, D1, D2}, {{0, {D1 * D2, D2, 1}}, {0, {D1, 1, D0 * D1}}});
        for (auto [al, be] : {std::pair{1.f, 1.f}, std::pair{0.5f, -2.f}, std::pair{1.f, 3.f}}) {
            std::vector<float> yy = y0;
            simt_launch("scale_add", grid_for(m), Threads, [&] { scale_add(L3, yy.data(), al, x.data(), DT_F32, be, m); });
            bool ok3 = true;
            for (int i = 0; i < D0; ++i)
                for (int j = 0; j < D1; ++j)
                    for (int k = 0; k < D2; ++k) {
                        const size_t o = ((size_t)i * D1 + j) * D2 + k;
                        ok3 = ok3 && close(yy[o], (double)al * y0[o] + (double)be * x[(size_t)k * D0 * D1 + i * D1 + j]);
                    }
            check(ok3, "scale_add rank 3 (3x37x5), permuted x, alpha " + std::to_string(al) + " beta " + std::to_string(be));
        }
    }

    // copy_strided with conversions, fill_strided, round_to, to_bf16.
    {
        std::vector<float> src = {1.f, -2.5f, 3.14159265f, 1e-3f, 65504.f, 1e20f, -0.f, 0.1f, INFINITY};
        // Ties in bf16: 1 + 2^-8 (the dropped half exactly; 1.0 is even: stays), 1 + 3*2^-8 (rounds up to even).
        src.push_back(1.f + std::ldexp(1.f, -8));
        src.push_back(1.f + 3 * std::ldexp(1.f, -8));
        src.push_back(__uint_as_float(0x7fc00001u));   // quiet NaN with a payload
        src.push_back(__uint_as_float(0x7f800001u));   // signalling NaN: must stay NaN, not become Inf
        for (int i = 0; i < 500; ++i) src.push_back(uni(rng) * std::ldexp(1.f, (int)(uni(rng) * 10)));
        const int n = (int)src.size();
        const Layout L = layout({n}, {{0, {1}}, {0, {1}}});
        std::vector<u16> h(n, 0xdead);
        simt_launch("copy_strided", grid_for(n), Threads, [&] { copy_strided(L, h.data(), DT_BF16, src.data(), DT_F32, n); });
        bool ok = true;
        for (int i = 0; i < n; ++i) ok = ok && h[i] == bf16_ref(src[i]);
        check(ok, "copy_strided f32 -> bf16: nearest, ties to even, NaN stays NaN");
        check(h[9] == 0x3f80 && h[10] == 0x3f82, "copy_strided f32 -> bf16: the two ties (1+2^-8 -> 1, 1+3*2^-8 -> 1+2^-6)");
        check((h[12] & 0x7f80) == 0x7f80 && (h[12] & 0x7f) != 0, "copy_strided f32 -> bf16: a signalling NaN with a low payload stays NaN");

        std::vector<float> back(n, NAN);
        simt_launch("copy_strided", grid_for(n), Threads, [&] { copy_strided(L, back.data(), DT_F32, h.data(), DT_BF16, n); });
        bool okb = true;
        for (int i = 0; i < n; ++i) {
            unsigned u; std::memcpy(&u, &back[i], 4);
            okb = okb && u == (unsigned)h[i] << 16;
        }
        check(okb, "copy_strided bf16 -> f32 exact (the bits shifted)");

        std::vector<u16> hf(n, 0xdead);
        std::vector<float> bf(n, NAN);
        simt_launch("copy_strided", grid_for(n), Threads, [&] { copy_strided(L, hf.data(), DT_F16, src.data(), DT_F32, n); });
        simt_launch("copy_strided", grid_for(n), Threads, [&] { copy_strided(L, bf.data(), DT_F32, hf.data(), DT_F16, n); });
        bool okh = true;
        for (int i = 0; i < n; ++i) {
            const float want = (float)(_Float16)src[i];
            okh = okh && (std::isnan(want) ? std::isnan(bf[i]) : bf[i] == want);
        }
        check(okh, "copy_strided f32 -> f16 -> f32 equals the rounding to half (65504 kept, 1e20 -> inf)");

        // f32 -> i32 truncates toward zero (finite, in range values), i32 -> f32 exact for small ints; transposed.
        const int R = 7, C = 11, m = R * C;
        std::vector<float> fs(m);
        for (auto& v : fs) v = uni(rng) * 100.f;
        std::vector<int> is(m, -999);
        const Layout Lt = layout({R, C}, {{0, {C, 1}}, {0, {1, R}}});
        simt_launch("copy_strided", grid_for(m), Threads, [&] { copy_strided(Lt, is.data(), DT_I32, fs.data(), DT_F32, m); });
        bool oki = true;
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) oki = oki && is[r * C + c] == (int)std::trunc((double)fs[c * R + r]);
        check(oki, "copy_strided f32 -> i32 transposed, truncating toward zero");
        std::vector<float> fb(m, NAN);
        simt_launch("copy_strided", grid_for(m), Threads, [&] { copy_strided(Lt, fb.data(), DT_F32, is.data(), DT_I32, m); });
        bool okf = true;
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) okf = okf && fb[r * C + c] == (float)is[c * R + r];
        check(okf, "copy_strided i32 -> f32 transposed");
        std::vector<int> big = {16777217, -2147483647, 5}, bigc(3, 0);
        const Layout L3 = layout({3}, {{0, {1}}, {0, {1}}});
        simt_launch("copy_strided", grid_for(3), Threads, [&] { copy_strided(L3, bigc.data(), DT_I32, big.data(), DT_I32, 3); });
        check(bigc == big, "copy_strided i32 -> i32 keeps the bits (beyond 2^24)");

        // fill_strided: columns 2..6 of a 9x10 buffer (offset 2, strides {10, 1}); the rest untouched.
        std::vector<float> buf(90, 7.f);
        const Layout Ls = layout({9, 5}, {{2, {10, 1}}});
        simt_launch("fill_strided", grid_for(45), Threads, [&] { fill_strided(Ls, buf.data(), 4, __float_as_uint(-1.5f), 45); });
        bool okfill = true;
        for (int r = 0; r < 9; ++r)
            for (int c = 0; c < 10; ++c) okfill = okfill && buf[r * 10 + c] == (c >= 2 && c < 7 ? -1.5f : 7.f);
        check(okfill, "fill_strided f32 on a sliced view at an offset, the rest untouched");
        std::vector<u16> b16(40, 0x1111);
        const Layout Lh = layout({4, 3}, {{1, {10, 2}}});
        simt_launch("fill_strided", grid_for(12), Threads, [&] { fill_strided(Lh, b16.data(), 2, 0x3f80, 12); });
        bool okh16 = true;
        for (int i = 0; i < 40; ++i) {
            const int r = (i - 1) / 10, c = (i - 1) % 10;
            const bool in = i >= 1 && r < 4 && c % 2 == 0 && c / 2 < 3;
            okh16 = okh16 && b16[i] == (in ? 0x3f80 : 0x1111);
        }
        check(okh16, "fill_strided 16-bit, every other element of a strided view");

        std::vector<float> rb(n, NAN), rh(n, NAN);
        std::vector<u16> tb(n, 0xdead);
        simt_launch("round_to", grid_for(n), Threads, [&] { round_to(DT_BF16, rb.data(), src.data(), n); });
        simt_launch("round_to", grid_for(n), Threads, [&] { round_to(DT_F16, rh.data(), src.data(), n); });
        simt_launch("to_bf16", grid_for(n), Threads, [&] { to_bf16(tb.data(), src.data(), n); });
        bool okr = true, okr16 = true, okt = true;
        for (int i = 0; i < n; ++i) {
            const float wb = bf16_to_f32(bf16_ref(src[i])), wh = (float)(_Float16)src[i];
            okr = okr && (std::isnan(wb) ? std::isnan(rb[i]) : rb[i] == wb);
            okr16 = okr16 && (std::isnan(wh) ? std::isnan(rh[i]) : rh[i] == wh);
            okt = okt && tb[i] == bf16_ref(src[i]);
        }
        check(okr, "round_to bf16: the nearest bf16 value, kept as float");
        check(okr16, "round_to f16: the nearest half value, kept as float");
        check(okt, "to_bf16: the bf16 bits, nearest even");
    }

    // Inputs held in 16 bits (an autocast product's result, CudaStorage.HeldAs): read through load_as_float with their
    // type, on a transposed view, as the float32 values they stand for; widen_16 makes the float32 block.
    {
        const int R = 19, C = 23, n = R * C;
        std::vector<u16> hb(n), hh(n);
        std::vector<float> wb(n), wh(n), other(n);
        for (int i = 0; i < n; ++i) {
            const float v = uni(rng) * 3.f;
            hb[i] = bf16_ref(v);
            wb[i] = bf16_to_f32(hb[i]);
            hh[i] = f32_to_f16(v);
            wh[i] = f16_to_f32(hh[i]);
            other[i] = uni(rng);
        }
        std::vector<float> widened(n, NAN), widenedh(n, NAN);
        simt_launch("widen_16", grid_for(n), Threads, [&] { widen_16(widened.data(), hb.data(), DT_BF16, n); });
        simt_launch("widen_16", grid_for(n), Threads, [&] { widen_16(widenedh.data(), hh.data(), DT_F16, n); });
        check(widened == wb && widenedh == wh, "widen_16: bf16 and f16 blocks to the float32 values they hold, exactly");

        const Layout Lt2 = layout({C, R}, {{0, {R, 1}}, {0, {1, C}}});
        const Layout Lt3 = layout({C, R}, {{0, {R, 1}}, {0, {1, C}}, {0, {R, 1}}});
        const Layout Lt4 = layout({C, R}, {{0, {R, 1}}, {0, {1, C}}, {0, {1, C}}, {0, {R, 1}}});
        std::vector<float> y16(n, NAN), y32(n, NAN), s16(n, NAN), s32(n, NAN), g16(n, NAN), g32(n, NAN), gelu(n);
        simt_launch("unary_forward", grid_for(n), Threads, [&] { unary_forward(Lt2, U_GELU, y16.data(), DT_F32, hb.data(), DT_BF16, 0.f, 0.f, n); });
        simt_launch("unary_forward", grid_for(n), Threads, [&] { unary_forward(Lt2, U_GELU, y32.data(), DT_F32, wb.data(), DT_F32, 0.f, 0.f, n); });
        check(y16 == y32, "unary_forward GELU on a transposed bf16-held input: the float32 kernel's bits on the widened values");
        simt_launch("binary", grid_for(n), Threads, [&] { binary(Lt3, 0, s16.data(), hh.data(), DT_F16, other.data(), DT_F32, n); });
        simt_launch("binary", grid_for(n), Threads, [&] { binary(Lt3, 0, s32.data(), wh.data(), DT_F32, other.data(), DT_F32, n); });
        check(s16 == s32, "binary Add of a transposed f16-held operand and a float32 one");
        for (int i = 0; i < n; ++i) gelu[i] = y32[i];
        simt_launch("unary_backward", grid_for(n), Threads, [&] {
            unary_backward(Lt4, U_GELU, g16.data(), DT_F32, hb.data(), DT_BF16, hb.data(), DT_BF16, gelu.data(), DT_F32, 0.f, 0.f, n); });
        simt_launch("unary_backward", grid_for(n), Threads, [&] {
            unary_backward(Lt4, U_GELU, g32.data(), DT_F32, wb.data(), DT_F32, wb.data(), DT_F32, gelu.data(), DT_F32, 0.f, 0.f, n); });
        check(g16 == g32, "unary_backward GELU with x and the gradient held in bf16");
        // An autocast activation stores its output (and its input's gradient) held: the float32 result rounded to nearest even.
        std::vector<u16> yh(n, 0xdead), gh(n, 0xdead);
        simt_launch("unary_forward", grid_for(n), Threads, [&] { unary_forward(Lt2, U_GELU, yh.data(), DT_BF16, hb.data(), DT_BF16, 0.f, 0.f, n); });
        simt_launch("unary_backward", grid_for(n), Threads, [&] {
            unary_backward(Lt4, U_GELU, gh.data(), DT_F16, hb.data(), DT_BF16, hb.data(), DT_BF16, gelu.data(), DT_F32, 0.f, 0.f, n); });
        bool okh = true;
        for (int i = 0; i < n; ++i) okh = okh && yh[i] == bf16_ref(y32[i]) && gh[i] == f32_to_f16(g32[i]);
        check(okh, "unary_forward and unary_backward storing a held bf16 / f16 output: the float32 result, rounded to nearest even");
        std::vector<float> acc16(n, 1.f), acc32(n, 1.f);
        const Layout Lc = layout({n}, {{0, {1}}, {0, {1}}});
        simt_launch("scale_add", grid_for(n), Threads, [&] { scale_add(Lc, acc16.data(), 1.f, hb.data(), DT_BF16, 1.f, n); });
        simt_launch("scale_add", grid_for(n), Threads, [&] { scale_add(Lc, acc32.data(), 1.f, wb.data(), DT_F32, 1.f, n); });
        check(acc16 == acc32, "scale_add (gradient accumulation) of a bf16-held gradient");
    }

    // dropout: element i kept when the (i + 1)-th SplitMix64 output from the seed, its top 24 bits as a fraction, is
    // below keep (CounterDropout.Keeps, written out here again as the reference); a multiply, so NaN stays NaN.
    {
        const int n = 5000;
        const float keep = 0.7f, scale = 1.f / keep;
        const unsigned long long seed = 0x1234abcd5678ull;
        std::vector<float> x(n), y(n, -7.f);
        for (auto& v : x) v = uni(rng) + 2.f;
        x[10] = NAN;
        simt_launch("dropout", grid_for(n), Threads, [&] { dropout(y.data(), x.data(), DT_F32, keep, scale, seed, n); });
        bool ok = true;
        int dropped = 0;
        for (int i = 0; i < n; ++i) {
            unsigned long long z = seed + 0x9E3779B97F4A7C15ull * (unsigned long long)(i + 1);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            z ^= z >> 31;
            const bool kept = (double)(z >> 40) / 16777216.0 < (double)keep;
            dropped += !kept;
            if (i == 10) ok = ok && std::isnan(y[i]);
            else ok = ok && y[i] == (kept ? x[i] * scale : 0.f);
        }
        check(ok, "dropout: the counter-based decisions, kept values scaled by 1/keep, a NaN input stays NaN");
        check(dropped > 1300 && dropped < 1700, "dropout: about 30% of 5000 dropped (" + std::to_string(dropped) + ")");
        std::vector<u16> xh(n);
        std::vector<float> xw(n), yh(n, -7.f), yw(n, -7.f);
        for (int i = 0; i < n; ++i) { xh[i] = bf16_ref(x[i]); xw[i] = bf16_to_f32(xh[i]); }
        simt_launch("dropout", grid_for(n), Threads, [&] { dropout(yh.data(), xh.data(), DT_BF16, keep, scale, seed, n); });
        simt_launch("dropout", grid_for(n), Threads, [&] { dropout(yw.data(), xw.data(), DT_F32, keep, scale, seed, n); });
        bool okh = true;
        for (int i = 0; i < n; ++i) okh = okh && (std::isnan(yw[i]) ? std::isnan(yh[i]) : yh[i] == yw[i]);
        check(okh, "dropout of an input held in bf16: the float32 kernel's values");
    }

    return simt_report();
}
