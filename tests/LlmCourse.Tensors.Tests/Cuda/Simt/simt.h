// A CPU emulator of the CUDA execution model, enough to run the engine's kernel files with g++ and check
// their logic without a GPU (SimtEmulationTests.cs compiles and runs the harnesses next to this file).
// Every thread of a block is a fiber on one OS thread; blocks run one after another.
// __syncthreads is a barrier of the block, warp shuffles, mma.sync and ldmatrix a barrier of the warp's 32 lanes; a
// thread runs until it must wait at one, then the next runnable thread runs. A thread that returns early no
// longer counts at later barriers of its block (as on a GPU). When no thread can run and some have not
// returned (a divergent __syncthreads, a shuffle some lanes never reach) it aborts, naming where each waits.
// SIMT_ORDER=reverse runs the blocks of a grid and the runnable threads of a block in descending order: a thread
// that reads what another wrote with no barrier between them reads it in one of the two orders and not in the
// other, and a kernel that counts on blocks running in some order breaks in one of them.
// What it does not model: timing, memory coalescing and bank conflicts, warps running in lockstep (lanes run
// one after another between collectives), and the hardware's summation order inside an mma (emulated in
// double, then added to the float accumulator).
//
// How to write a harness for a kernel file: #include "simt.h", then "common.cuh" and the .cu file (the test
// passes -I to the kernels' folder) and "harness.h" (check(ok, what) prints one line per check, main returns
// simt_report(): the totals line); launch with simt_launch(grid, threads, [&] { kernel(args...); }). Kernels must use
// dynamic shared memory only (extern __shared__ float smem[]: SIMT_SHARED_BYTES bytes, filled with NaN bytes
// at the start of each block so a read of memory never written shows up).
#pragma once
#define SIMT_EMULATION 1

#include <math.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <functional>
#include <ucontext.h>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

// CUDA's vector types the kernels use (NVRTC has them built in).
struct alignas(8) float2 {
    float x, y;
};
struct alignas(16) uint4 {
    unsigned x, y, z, w;
};
struct alignas(16) float4 {
    float x, y, z, w;
};

inline dim3 threadIdx, blockIdx;   // of the fiber running now (set by the scheduler at each switch)
inline dim3 blockDim, gridDim;
inline int simt_lane, simt_warp;
inline const char* simt_kernel = "";

#ifndef SIMT_SHARED_BYTES
#define SIMT_SHARED_BYTES 65536
#endif
alignas(16) float smem[SIMT_SHARED_BYTES / sizeof(float)];

// ---- fibers: the threads of a block, switched cooperatively on one OS thread ------------------------
// The switch: x86-64 saves the callee-saved registers on the old stack and resumes the new one (swapcontext
// would also make a signal-mask system call per switch, most of a run's time); elsewhere, ucontext.
#if defined(__x86_64__)
extern "C" void simt_switch(void** save, void* resume);
asm(R"(
    .text
    .globl simt_switch
    .type simt_switch, @function
simt_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size simt_switch, .-simt_switch
)");
struct SimtContext {
    void* sp = nullptr;
};
inline void simt_swap(SimtContext& save, SimtContext& resume) { simt_switch(&save.sp, resume.sp); }
inline void simt_start(SimtContext& c, char* stack, size_t bytes, void (*entry)()) {
    auto top = (uintptr_t)(stack + bytes) & ~(uintptr_t)15;
    auto* slots = (void**)(top - 8 * sizeof(void*));   // r15 r14 r13 r12 rbx rbp, then ret's address, then a pad
    for (int i = 0; i < 6; ++i) slots[i] = nullptr;
    slots[6] = (void*)entry;                            // entered as if called: rsp % 16 == 8 there
    slots[7] = nullptr;
    c.sp = slots;
}
#else
struct SimtContext {
    ucontext_t context;
};
inline void simt_swap(SimtContext& save, SimtContext& resume) { swapcontext(&save.context, &resume.context); }
inline void simt_start(SimtContext& c, char* stack, size_t bytes, void (*entry)()) {
    getcontext(&c.context);
    c.context.uc_stack.ss_sp = stack;
    c.context.uc_stack.ss_size = bytes;
    c.context.uc_link = nullptr;
    makecontext(&c.context, entry, 0);
}
#endif

// A thread runs until it reaches a barrier others have not reached, then the scheduler runs the next one.
// Deterministic (the same interleaving every run) and far cheaper than OS threads and futexes.
struct SimtFiber {
    SimtContext context;
    std::unique_ptr<char[]> stack;
    unsigned index = 0;
    bool done = false;
    int waiting = 0;   // 0 runnable, 1 at __syncthreads, 2 at its warp's barrier
};

struct SimtWarp {
    int alive = 32, arrived = 0;
    uint64_t slot[32];
    unsigned a[32][4], b[32][2];
};

inline SimtContext simt_scheduler;
inline std::vector<SimtFiber> simt_fibers;
inline std::vector<SimtWarp> simt_warps;
inline int simt_block_alive = 0, simt_block_arrived = 0;
inline SimtFiber* simt_current = nullptr;
inline std::function<void()> simt_body;

inline void simt_release(int kind, int warp) {
    for (auto& f : simt_fibers)
        if (!f.done && f.waiting == kind && (kind == 1 || (int)(f.index >> 5) == warp)) f.waiting = 0;
}

// Arrive at a barrier; when the last live thread of its group arrives, all go on.
inline void simt_barrier(int kind) {
    SimtFiber& self = *simt_current;
    int& arrived = kind == 1 ? simt_block_arrived : simt_warps[simt_warp].arrived;
    const int alive = kind == 1 ? simt_block_alive : simt_warps[simt_warp].alive;
    if (++arrived == alive) {
        arrived = 0;
        simt_release(kind, simt_warp);
        return;
    }
    self.waiting = kind;
    simt_swap(self.context, simt_scheduler);
}

inline void simt_fiber_entry() {
    simt_body();
    SimtFiber& self = *simt_current;
    self.done = true;
    // A thread that returns no longer counts: a barrier the others wait at may now be complete.
    SimtWarp& w = simt_warps[self.index >> 5];
    if (--w.alive > 0 && w.arrived == w.alive) { w.arrived = 0; simt_release(2, (int)(self.index >> 5)); }
    if (--simt_block_alive > 0 && simt_block_arrived == simt_block_alive) { simt_block_arrived = 0; simt_release(1, 0); }
    simt_swap(self.context, simt_scheduler);
}

inline void __syncthreads() { simt_barrier(1); }

// ---- warp collectives ---------------------------------------------------------------------------
template <class T>
T simt_exchange(T v, int source) {
    static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
    SimtWarp& w = simt_warps[simt_warp];
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    w.slot[simt_lane] = bits;
    simt_barrier(2);
    const uint64_t r = w.slot[source & 31];
    simt_barrier(2);
    T out;
    std::memcpy(&out, &r, sizeof(T));
    return out;
}

template <class T> T __shfl_sync(unsigned, T v, int source) { return simt_exchange(v, source); }
template <class T> T __shfl_xor_sync(unsigned, T v, int mask) { return simt_exchange(v, simt_lane ^ mask); }
template <class T> T __shfl_down_sync(unsigned, T v, unsigned delta) {
    const int s = simt_lane + (int)delta;
    return simt_exchange(v, s < 32 ? s : simt_lane);
}
template <class T> T __shfl_up_sync(unsigned, T v, unsigned delta) {
    const int s = simt_lane - (int)delta;
    return simt_exchange(v, s >= 0 ? s : simt_lane);
}

// Warp votes (every lane of the warp takes part, as the full mask says).
inline unsigned __ballot_sync(unsigned, int predicate) {
    SimtWarp& w = simt_warps[simt_warp];
    w.slot[simt_lane] = predicate != 0;
    simt_barrier(2);
    unsigned bits = 0;
    for (int l = 0; l < 32; ++l) bits |= (unsigned)(w.slot[l] != 0) << l;
    simt_barrier(2);
    return bits;
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) == 0xffffffffu; }

// ---- bit casts, 16-bit floats, integer min/max as CUDA's overloads ------------------------------------
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }

// Round-to-nearest float arithmetic (__fadd_rn and kin): on a GPU these are never contracted into a fused
// multiply-add; here each result goes through a volatile float, so g++ cannot fuse a product into a sum either.
inline float __fadd_rn(float a, float b) { volatile float r = a + b; return r; }
inline float __fmul_rn(float a, float b) { volatile float r = a * b; return r; }
inline float __fdiv_rn(float a, float b) { volatile float r = a / b; return r; }
inline float __fsqrt_rn(float a) { volatile float r = sqrtf(a); return r; }

// fp16 by GCC's _Float16 (x86-64, GCC 12+): conversions round to nearest even, as cvt.rn does.
inline float f16_to_f32(unsigned short h) { _Float16 x; std::memcpy(&x, &h, 2); return (float)x; }
inline unsigned short f32_to_f16(float f) { _Float16 x = (_Float16)f; unsigned short h; std::memcpy(&h, &x, 2); return h; }

// Atomics: one lock for all (correct, not fast).
inline std::mutex simt_atomics;
template <class T> inline T simt_atomic(T* p, T (*update)(T, T), T v) {
    std::lock_guard<std::mutex> g(simt_atomics);
    const T old = *p;
    *p = update(old, v);
    return old;
}
inline int atomicAdd(int* p, int v) { return simt_atomic<int>(p, [](int a, int b) { return a + b; }, v); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return simt_atomic<unsigned>(p, [](unsigned a, unsigned b) { return a + b; }, v); }
inline float atomicAdd(float* p, float v) { return simt_atomic<float>(p, [](float a, float b) { return a + b; }, v); }
inline double atomicAdd(double* p, double v) { return simt_atomic<double>(p, [](double a, double b) { return a + b; }, v); }
inline int atomicMin(int* p, int v) { return simt_atomic<int>(p, [](int a, int b) { return a < b ? a : b; }, v); }
inline int atomicMax(int* p, int v) { return simt_atomic<int>(p, [](int a, int b) { return a < b ? b : a; }, v); }
inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
    return simt_atomic<unsigned long long>(p, [](unsigned long long a, unsigned long long b) { return a < b ? a : b; }, v);
}
inline int atomicOr(int* p, int v) { return simt_atomic<int>(p, [](int a, int b) { return a | b; }, v); }
inline int atomicCAS(int* p, int compare, int v) {
    std::lock_guard<std::mutex> g(simt_atomics);
    const int old = *p;
    if (old == compare) *p = v;
    return old;
}

template <class A, class B> inline std::common_type_t<A, B> min(A a, B b) { return a < b ? a : b; }
template <class A, class B> inline std::common_type_t<A, B> max(A a, B b) { return a < b ? b : a; }

// ---- mma.sync.aligned.m16n8k16.row.col.f32.{bf16,f16} (the fragment layout of attention_mma.cu's header) ----
inline float simt_decode(unsigned short h, bool f16) {
    if (f16) return f16_to_f32(h);
    const unsigned u = (unsigned)h << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline void simt_mma(float* d, const unsigned* a, const unsigned* b, bool f16) {
    SimtWarp& w = simt_warps[simt_warp];
    std::memcpy(w.a[simt_lane], a, sizeof w.a[0]);
    std::memcpy(w.b[simt_lane], b, sizeof w.b[0]);
    simt_barrier(2);
    // A[row][col]: lane (row % 8) * 4 + (col % 8) / 2, register (row >= 8) + 2 (col >= 8), odd columns high.
    auto A = [&](int row, int col) {
        const unsigned r = w.a[(row % 8) * 4 + (col % 8) / 2][(row >= 8 ? 1 : 0) + (col >= 8 ? 2 : 0)];
        return simt_decode((unsigned short)((col & 1) ? r >> 16 : r & 0xffffu), f16);
    };
    // B[row][col]: lane col * 4 + (row % 8) / 2, register (row >= 8), odd rows high.
    auto B = [&](int row, int col) {
        const unsigned r = w.b[col * 4 + (row % 8) / 2][row >= 8 ? 1 : 0];
        return simt_decode((unsigned short)((row & 1) ? r >> 16 : r & 0xffffu), f16);
    };
    const int g = simt_lane >> 2, t = simt_lane & 3;
    float out[4];
    for (int e = 0; e < 4; ++e) {
        const int row = g + (e >= 2 ? 8 : 0), col = 2 * t + (e & 1);
        double s = 0;
        for (int k = 0; k < 16; ++k) s += (double)A(row, k) * (double)B(k, col);
        out[e] = (float)((double)d[e] + s);
    }
    simt_barrier(2);   // every lane has read every fragment before any lane deposits its next ones
    std::memcpy(d, out, sizeof out);
}

inline void mma_16816_bf16(float* d, const unsigned* a, const unsigned* b) { simt_mma(d, a, b, false); }
inline void mma_16816_f16(float* d, const unsigned* a, const unsigned* b) { simt_mma(d, a, b, true); }

// ---- ldmatrix.sync.aligned.m8n8.x4{.trans}.shared.b16 ------------------------------------------------------
// Lane 8 m + r gives the address of row r of matrix m: 8 16-bit values, 16-byte aligned, in shared memory (checked:
// a misaligned row, or one outside the block's shared memory, aborts naming the lane). Lane 4 r + w receives in
// register m word w of row r of matrix m: its values 2w (low half) and 2w + 1; with .trans, of the transposed
// matrix: rows 2w (low half) and 2w + 1 of column r.
inline void simt_ldmatrix(unsigned (&out)[4], const void* row, bool trans) {
    const uintptr_t at = (uintptr_t)row, base = (uintptr_t)smem;
    if ((at & 15) != 0 || at < base || at + 16 > base + sizeof smem) {
        std::fprintf(stderr, "ldmatrix in %s: lane %d's row address %p is %s\n", simt_kernel, simt_lane, row,
                     (at & 15) != 0 ? "not 16-byte aligned" : "outside shared memory");
        std::abort();
    }
    SimtWarp& w = simt_warps[simt_warp];
    w.slot[simt_lane] = at;
    simt_barrier(2);
    const int r = simt_lane >> 2, word = simt_lane & 3;
    for (int m = 0; m < 4; ++m) {
        unsigned short lo, hi;
        if (!trans) {
            const auto* p = (const unsigned short*)w.slot[8 * m + r];
            lo = p[2 * word];
            hi = p[2 * word + 1];
        } else {
            lo = ((const unsigned short*)w.slot[8 * m + 2 * word])[r];
            hi = ((const unsigned short*)w.slot[8 * m + 2 * word + 1])[r];
        }
        out[m] = (unsigned)lo | ((unsigned)hi << 16);
    }
    simt_barrier(2);   // every lane has read every address before any lane deposits its next one
}

inline void ldmatrix_x4(unsigned (&r)[4], const unsigned short* row) { simt_ldmatrix(r, row, false); }
inline void ldmatrix_x4_trans(unsigned (&r)[4], const unsigned short* row) { simt_ldmatrix(r, row, true); }

// ---- launch ----------------------------------------------------------------------------------------------
inline constexpr size_t SimtStackBytes = 256 * 1024;

inline bool simt_reverse() {
    static const bool reverse = [] {
        const char* order = std::getenv("SIMT_ORDER");
        return order && std::strcmp(order, "reverse") == 0;
    }();
    return reverse;
}

template <class F>
void simt_launch(const char* name, dim3 grid, unsigned threads, F&& body) {
    if (threads == 0 || threads % 32 != 0 || threads > 1024) {
        std::fprintf(stderr, "simt_launch(%s): %u threads (a multiple of 32 up to 1024)\n", name, threads);
        std::abort();
    }
    simt_kernel = name;
    blockDim = {threads, 1, 1};
    gridDim = grid;
    simt_body = body;
    simt_fibers.resize(threads);
    simt_warps.assign(threads / 32, SimtWarp{});
    for (unsigned i = 0; i < threads; ++i)
        if (!simt_fibers[i].stack) simt_fibers[i].stack.reset(new char[SimtStackBytes]);
    const bool reverse = simt_reverse();
    const uint64_t blocks = (uint64_t)grid.x * grid.y * grid.z;
    for (uint64_t k = 0; k < blocks; ++k) {
        const uint64_t b = reverse ? blocks - 1 - k : k;
        const unsigned x = (unsigned)(b % grid.x), y = (unsigned)(b / grid.x % grid.y), z = (unsigned)(b / grid.x / grid.y);
        std::memset(smem, 0xff, sizeof smem);   // NaN bytes: a read of unwritten shared memory shows
        blockIdx = {x, y, z};
        simt_block_alive = (int)threads;
        simt_block_arrived = 0;
        for (auto& w : simt_warps) { w.alive = 32; w.arrived = 0; }
        for (unsigned i = 0; i < threads; ++i) {
            SimtFiber& f = simt_fibers[i];
            f.index = i;
            f.done = false;
            f.waiting = 0;
            simt_start(f.context, f.stack.get(), SimtStackBytes, simt_fiber_entry);
        }
        // Round robin over the runnable threads until every one has returned.
        for (;;) {
            bool any = false, progressed = false;
            for (unsigned j = 0; j < threads; ++j) {
                SimtFiber& f = simt_fibers[reverse ? threads - 1 - j : j];
                if (f.done) continue;
                any = true;
                if (f.waiting) continue;
                simt_current = &f;
                threadIdx = {f.index, 0, 0};
                simt_lane = (int)(f.index & 31);
                simt_warp = (int)(f.index >> 5);
                simt_swap(simt_scheduler, f.context);
                progressed = true;
            }
            if (!any) break;
            if (!progressed) {
                for (auto& f : simt_fibers)
                    if (!f.done)
                        std::fprintf(stderr, "SIMT deadlock in %s, block (%u, %u, %u): thread %u waits at %s\n", name, x, y, z, f.index,
                                     f.waiting == 1 ? "__syncthreads" : "a warp collective");
                std::abort();
            }
        }
    }
}
