// Element-wise kernels over (possibly strided, broadcast) views: copies and conversions, fill, the
// unary functions and their gradients, binary ops, comparisons, where, scale-add, dropout, autocast rounding.
// Op codes are the C# enums' values (UnaryOp, BinaryOp, CompareOp in Backend.cs). Inputs passed with a type
// (xType, ...) are read with load_as_float: a float32 tensor whose storage is held in 16 bits (an autocast
// product's result, CudaStorage.HeldAs) is read as bf16/fp16, half the bytes, exactly the same values.

// UnaryOp
#define U_NEG 0
#define U_EXP 1
#define U_LOG 2
#define U_SQRT 3
#define U_RSQRT 4
#define U_TANH 5
#define U_SIGMOID 6
#define U_RELU 7
#define U_GELU 8
#define U_GELU_TANH 9
#define U_ABS 10
#define U_SQUARE 11
#define U_POW 12
#define U_CLAMP 13
#define U_LOG_SIGMOID 14
#define U_SIN 15
#define U_COS 16
#define U_RECIPROCAL 17
#define U_SILU 18
#define U_SOFTPLUS 19

__device__ __forceinline__ float sigmoid_f(float x) { return 1.f / (1.f + expf(-x)); }

// PyTorch's pow: x^0 is 1 even for x = 0 or NaN (powf agrees).
__device__ __forceinline__ float pow_f(float x, float p) { return powf(x, p); }

#define SQRT_2_OVER_PI 0.7978845608028654f
#define INV_SQRT_2 0.7071067811865476f
#define INV_SQRT_2PI 0.3989422804014327f

// One pair per op, as on the CPU (Backends/Cpu/UnaryOperators.cs): f is the forward y = f(x), df the
// gradient g * f'(x) with the forward output y at hand. alpha/beta carry Pow's exponent and Clamp's bounds.
#define UNARY_OP(Name, forward, gradient) \
    struct Name { \
        static __device__ __forceinline__ float f(float x, float alpha, float beta) { forward } \
        static __device__ __forceinline__ float df(float x, float y, float g, float alpha, float beta) { gradient } \
    };

UNARY_OP(Neg, return -x;, return -g;)
UNARY_OP(Exp, return expf(x);, return g * y;)
UNARY_OP(Log, return logf(x);, return g / x;)
UNARY_OP(Sqrt, return sqrtf(x);, return g / y * 0.5f;)
UNARY_OP(Rsqrt, return 1.f / sqrtf(x);, return -0.5f * y * y * y * g;)
UNARY_OP(Tanh, return tanhf(x);, return (1.f - y * y) * g;)
UNARY_OP(Sigmoid, return sigmoid_f(x);, return (1.f - y) * y * g;)
UNARY_OP(Relu, return x != x ? x : fmaxf(x, 0.f);, return y > 0.f ? g : 0.f;)
UNARY_OP(Gelu,
    return 0.5f * x * (1.f + erff(x * INV_SQRT_2));,
    float cdf = 0.5f * (1.f + erff(x * INV_SQRT_2));
    float pdf = INV_SQRT_2PI * expf(-0.5f * x * x);
    return g * (cdf + x * pdf);)
UNARY_OP(GeluTanh,
    return 0.5f * x * (1.f + tanhf(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));,
    float inner = SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
    float t = tanhf(inner);
    float dinner = SQRT_2_OVER_PI * (1.f + 3.f * 0.044715f * x * x);
    return g * (0.5f * (1.f + t) + 0.5f * x * (1.f - t * t) * dinner);)
UNARY_OP(Abs, return fabsf(x);, return x > 0.f ? g : x < 0.f ? -g : 0.f;)
UNARY_OP(Square, return x * x;, return x * g * 2.f;)
UNARY_OP(Pow, return pow_f(x, alpha);, return alpha == 0.f ? 0.f : pow_f(x, alpha - 1.f) * alpha * g;)
UNARY_OP(Clamp,
    // NaN marks a missing bound; a NaN input stays NaN (torch.clamp)
    if (x != x) return x;
    float y = x;
    if (alpha == alpha) y = fmaxf(y, alpha);
    if (beta == beta) y = fminf(y, beta);
    return y;,
    bool inside = (alpha != alpha || x >= alpha) && (beta != beta || x <= beta);
    return inside ? g : 0.f;)
UNARY_OP(LogSigmoid, return fminf(x, 0.f) - log1pf(expf(-fabsf(x)));, return sigmoid_f(-x) * g;)
UNARY_OP(Sin, return sinf(x);, return cosf(x) * g;)
UNARY_OP(Cos, return cosf(x);, return -(sinf(x) * g);)
UNARY_OP(Reciprocal, return 1.f / x;, return -(y * y * g);)
UNARY_OP(Silu, return x * sigmoid_f(x);, float s = sigmoid_f(x); return (1.f + x * (1.f - s)) * s * g;)
UNARY_OP(Softplus, return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x)));, return sigmoid_f(x) * g;)

// The one switch from the op code to its pair: Grad picks the derivative.
template <bool Grad, typename Op>
__device__ __forceinline__ float unary_apply(float x, float y, float g, float alpha, float beta) {
    return Grad ? Op::df(x, y, g, alpha, beta) : Op::f(x, alpha, beta);
}

template <bool Grad>
__device__ float unary_dispatch(int op, float x, float y, float g, float alpha, float beta) {
    switch (op) {
        case U_NEG: return unary_apply<Grad, Neg>(x, y, g, alpha, beta);
        case U_EXP: return unary_apply<Grad, Exp>(x, y, g, alpha, beta);
        case U_LOG: return unary_apply<Grad, Log>(x, y, g, alpha, beta);
        case U_SQRT: return unary_apply<Grad, Sqrt>(x, y, g, alpha, beta);
        case U_RSQRT: return unary_apply<Grad, Rsqrt>(x, y, g, alpha, beta);
        case U_TANH: return unary_apply<Grad, Tanh>(x, y, g, alpha, beta);
        case U_SIGMOID: return unary_apply<Grad, Sigmoid>(x, y, g, alpha, beta);
        case U_RELU: return unary_apply<Grad, Relu>(x, y, g, alpha, beta);
        case U_GELU: return unary_apply<Grad, Gelu>(x, y, g, alpha, beta);
        case U_GELU_TANH: return unary_apply<Grad, GeluTanh>(x, y, g, alpha, beta);
        case U_ABS: return unary_apply<Grad, Abs>(x, y, g, alpha, beta);
        case U_SQUARE: return unary_apply<Grad, Square>(x, y, g, alpha, beta);
        case U_POW: return unary_apply<Grad, Pow>(x, y, g, alpha, beta);
        case U_CLAMP: return unary_apply<Grad, Clamp>(x, y, g, alpha, beta);
        case U_LOG_SIGMOID: return unary_apply<Grad, LogSigmoid>(x, y, g, alpha, beta);
        case U_SIN: return unary_apply<Grad, Sin>(x, y, g, alpha, beta);
        case U_COS: return unary_apply<Grad, Cos>(x, y, g, alpha, beta);
        case U_RECIPROCAL: return unary_apply<Grad, Reciprocal>(x, y, g, alpha, beta);
        case U_SILU: return unary_apply<Grad, Silu>(x, y, g, alpha, beta);
        case U_SOFTPLUS: return unary_apply<Grad, Softplus>(x, y, g, alpha, beta);
        default: return nan_f();
    }
}

__device__ float unary_f(int op, float x, float alpha, float beta) { return unary_dispatch<false>(op, x, 0.f, 0.f, alpha, beta); }

// d f(x) / dx times g, with the forward output y at hand.
__device__ float unary_grad(int op, float x, float y, float g, float alpha, float beta) { return unary_dispatch<true>(op, x, y, g, alpha, beta); }

// BinaryOp
#define B_ADD 0
#define B_SUB 1
#define B_MUL 2
#define B_DIV 3
#define B_POW 4
#define B_MAX 5
#define B_MIN 6

__device__ __forceinline__ float binary_f(int op, float a, float b) {
    switch (op) {
        case B_ADD: return a + b;
        case B_SUB: return a - b;
        case B_MUL: return a * b;
        case B_DIV: return a / b;
        case B_POW: return pow_f(a, b);
        case B_MAX: return (a != a || b != b) ? nan_f() : fmaxf(a, b);   // IEEE maximum: NaN wins, like torch.maximum
        case B_MIN: return (a != a || b != b) ? nan_f() : fminf(a, b);
        default: return nan_f();
    }
}

// Layout operands: 0 = destination, 1 = source. Same dtype: the bits move untouched (Int32, NaN payloads).
extern "C" __global__ void copy_strided(Layout L, void* dst, int dstType, const void* src, int srcType, i64 n) {
    const bool bits = dstType == srcType, wide = dstType == DT_F32 || dstType == DT_I32;
    GRID_STRIDE_ILP(first, n) {
        i64 o[ILP][2];
        unsigned raw[ILP] = {};
        float v[ILP] = {};
        FOR_ILP(first, n, k) {
            layout_offsets(L, 2, ILP_ELEMENT(first, k), o[k]);
            if (bits) raw[k] = wide ? ((const unsigned*)src)[o[k][1]] : ((const u16*)src)[o[k][1]];
            else v[k] = load_as_float(src, srcType, o[k][1]);
        }
        FOR_ILP(first, n, k) {
            if (!bits) store_from_float(dst, dstType, o[k][0], v[k]);
            else if (wide) ((unsigned*)dst)[o[k][0]] = raw[k];
            else ((u16*)dst)[o[k][0]] = (u16)raw[k];
        }
    }
}

// Sets every element of a view to a bit pattern (4 or 2 bytes).
extern "C" __global__ void fill_strided(Layout L, void* dst, int elementBytes, unsigned bits, i64 n) {
    GRID_STRIDE(i, n) {
        i64 o = layout_offset(L, 0, i);
        if (elementBytes == 4) ((unsigned*)dst)[o] = bits;
        else ((u16*)dst)[o] = (u16)bits;
    }
}

// Layout operands: 0 = y, 1 = x. y is float32, or (yType bf16/fp16) the 16-bit block of an autocast activation.
extern "C" __global__ void unary_forward(Layout L, int op, void* y, int yType, const void* x, int xType, float alpha, float beta, i64 n) {
    GRID_STRIDE_ILP(first, n) {
        i64 o[ILP][2];
        float v[ILP] = {};
        FOR_ILP(first, n, k) {
            layout_offsets(L, 2, ILP_ELEMENT(first, k), o[k]);
            v[k] = load_as_float(x, xType, o[k][1]);
        }
        FOR_ILP(first, n, k) store_from_float(y, yType, o[k][0], unary_f(op, v[k], alpha, beta));
    }
}

// Layout operands: 0 = gx, 1 = x, 2 = gy, 3 = y (forward's output). gx as y in unary_forward.
extern "C" __global__ void unary_backward(Layout L, int op, void* gx, int gxType, const void* x, int xType, const void* gy, int gyType,
                                          const void* y, int yType, float alpha, float beta, i64 n) {
    GRID_STRIDE_ILP(first, n) {
        i64 o[ILP][4];
        float xv[ILP] = {}, yv[ILP] = {}, gv[ILP] = {};
        FOR_ILP(first, n, k) {
            layout_offsets(L, 4, ILP_ELEMENT(first, k), o[k]);
            xv[k] = load_as_float(x, xType, o[k][1]);
            gv[k] = load_as_float(gy, gyType, o[k][2]);
            yv[k] = load_as_float(y, yType, o[k][3]);
        }
        FOR_ILP(first, n, k) store_from_float(gx, gxType, o[k][0], unary_grad(op, xv[k], yv[k], gv[k], alpha, beta));
    }
}

// Layout operands: 0 = y, 1 = a, 2 = b.
extern "C" __global__ void binary(Layout L, int op, float* y, const void* a, int aType, const void* b, int bType, i64 n) {
    GRID_STRIDE_ILP(first, n) {
        i64 o[ILP][3];
        float u[ILP] = {}, v[ILP] = {};
        FOR_ILP(first, n, k) {
            layout_offsets(L, 3, ILP_ELEMENT(first, k), o[k]);
            u[k] = load_as_float(a, aType, o[k][1]);
            v[k] = load_as_float(b, bType, o[k][2]);
        }
        FOR_ILP(first, n, k) y[o[k][0]] = binary_f(op, u[k], v[k]);
    }
}

// Layout operands: 0 = y, 1 = a. y = a op s, or s op a when scalarFirst.
extern "C" __global__ void binary_scalar(Layout L, int op, float* y, const void* a, int aType, float s, int scalarFirst, i64 n) {
    GRID_STRIDE_ILP(first, n) {
        i64 o[ILP][2];
        float v[ILP] = {};
        FOR_ILP(first, n, k) {
            layout_offsets(L, 2, ILP_ELEMENT(first, k), o[k]);
            v[k] = load_as_float(a, aType, o[k][1]);
        }
        FOR_ILP(first, n, k) y[o[k][0]] = scalarFirst ? binary_f(op, s, v[k]) : binary_f(op, v[k], s);
    }
}

// CompareOp: Eq, Ne, Gt, Ge, Lt, Le. Compared in double, so Int32 values compare exactly. Layout: 0 = y, 1 = a, 2 = b.
extern "C" __global__ void compare(Layout L, int op, float* y, const void* a, int aType, const void* b, int bType, i64 n) {
    GRID_STRIDE(i, n) {
        i64 o[3];
        layout_offsets(L, 3, i, o);
        double u = aType == DT_I32 ? (double)((const int*)a)[o[1]] : (double)load_as_float(a, aType, o[1]);
        double v = bType == DT_I32 ? (double)((const int*)b)[o[2]] : (double)load_as_float(b, bType, o[2]);
        bool holds;
        switch (op) {
            case 0: holds = u == v; break;
            case 1: holds = u != v; break;
            case 2: holds = u > v; break;
            case 3: holds = u >= v; break;
            case 4: holds = u < v; break;
            default: holds = u <= v; break;
        }
        y[o[0]] = holds ? 1.f : 0.f;
    }
}

// Layout operands: 0 = y, 1 = condition, 2 = a, 3 = b.
extern "C" __global__ void where_select(Layout L, float* y, const float* c, const float* a, const float* b, i64 n) {
    GRID_STRIDE(i, n) {
        i64 o[4];
        layout_offsets(L, 4, i, o);
        y[o[0]] = c[o[1]] != 0.f ? a[o[2]] : b[o[3]];
    }
}

// In place: y = alpha y + beta x. Layout operands: 0 = y, 1 = x.
extern "C" __global__ void scale_add(Layout L, float* y, float alpha, const void* x, int xType, float beta, i64 n) {
    GRID_STRIDE_ILP(first, n) {
        i64 o[ILP][2];
        float v[ILP] = {}, u[ILP] = {};
        FOR_ILP(first, n, k) {
            layout_offsets(L, 2, ILP_ELEMENT(first, k), o[k]);
            v[k] = y[o[k][0]];
            u[k] = load_as_float(x, xType, o[k][1]);
        }
        FOR_ILP(first, n, k) {
            const float w = alpha != 1.f ? v[k] * alpha : v[k];
            y[o[k][0]] = beta == 1.f ? w + u[k] : u[k] * beta + w;
        }
    }
}

// Dropout with no mask in memory (Backend.Dropout): element i is kept by the counter-based hash of (seed, i), as
// CounterDropout.Keeps on the CPU. A multiply, not a select, so a NaN or infinity dropped stays NaN (as x * mask does
// in PyTorch) and a training step that went wrong still says so. Contiguous; the backward is this on the gradient.
// x is read with its type (a projection's result held in 16 bits, before the residual add).
extern "C" __global__ void dropout(float* y, const void* x, int xType, float keep, float scale, unsigned long long seed, i64 n) {
    GRID_STRIDE_ILP(first, n) {
        float v[ILP] = {};
        FOR_ILP(first, n, k) v[k] = load_as_float(x, xType, ILP_ELEMENT(first, k));
        FOR_ILP(first, n, k) {
            const i64 i = ILP_ELEMENT(first, k);
            y[i] = v[k] * (keeps(seed, (unsigned long long)i, keep) ? scale : 0.f);
        }
    }
}

// Autocast: y = x rounded to bf16 (precision 2) or fp16 (3), kept as float. Contiguous.
extern "C" __global__ void round_to(int precision, float* y, const float* x, i64 n) {
    GRID_STRIDE_ILP(first, n) {
        float v[ILP] = {};
        FOR_ILP(first, n, k) v[k] = x[ILP_ELEMENT(first, k)];
        FOR_ILP(first, n, k) y[ILP_ELEMENT(first, k)] = round_as(precision, v[k]);
    }
}

// x *= factor for many float32 tensors in one launch (gradient clipping's rescale): the one rounding of
// binary_scalar's multiply, each tensor strided over by its own blocks.
__device__ __forceinline__ void scale_span(const TensorSpan* spans, int count, float factor) {
    const int t = span_of_block(spans, count);
    i64 local, blocks;
    span_blocks(spans, count, t, &local, &blocks);
    float* x = (float*)spans[t].address;
    const i64 n = spans[t].n;
    for (i64 i = local * blockDim.x + threadIdx.x; i < n; i += blocks * blockDim.x) x[i] = x[i] * factor;
}

extern "C" __global__ void scale_multi(const TensorSpan* spans, int count, float factor) { scale_span(spans, count, factor); }

// Gradient clipping with no read-back: the global norm from sum_partials_d's total (a double sum of squares), the
// coefficient max_norm / (norm + 1e-6) with GradClip's float roundings, and, where it is below 1 (or NaN), scale_span's
// rescale; block 0 stores the norm for whoever reads it later. Every block computes the same two roundings.
extern "C" __global__ void clip_multi(const TensorSpan* spans, int count, const double* sumOfSquares, float maxNorm, float* norm) {
    const float total = (float)sqrt(*sumOfSquares);
    const float factor = maxNorm / (total + 1e-6f);
    if (blockIdx.x == 0 && threadIdx.x == 0) *norm = total;
    if (factor < 1.f || factor != factor) scale_span(spans, count, factor);
}

// A float32 storage held in 16 bits (an autocast product's result, CudaStorage.HeldAs) widened in place of it: exact.
extern "C" __global__ void widen_16(float* y, const u16* x, int heldAs, i64 n) {
    GRID_STRIDE_ILP(first, n) {
        float v[ILP] = {};
        FOR_ILP(first, n, k) v[k] = load_as_float(x, heldAs, ILP_ELEMENT(first, k));
        FOR_ILP(first, n, k) y[ILP_ELEMENT(first, k)] = v[k];
    }
}

// Converts float to bf16 storage for the tensor-core matrix products (values already bf16-exact under autocast).
extern "C" __global__ void to_bf16(u16* y, const float* x, i64 n) {
    GRID_STRIDE(i, n) { y[i] = f32_to_bf16(x[i]); }
}
