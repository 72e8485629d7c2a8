// A CPU emulator of the CUDA execution model, enough to run the engine's kernel files with g++ and check
// their logic without a GPU (SimtEmulationTests.cs compiles and runs the harnesses next to this file).
// Every thread of a block is a std::thread; blocks run one after another. __syncthreads is a barrier of the
// block, warp shuffles and mma.sync a barrier of the warp's 32 lanes; a thread that returns early no longer
// counts at later barriers of its block (as on a GPU). A barrier that waits more than 20 s aborts with where
// it was (a deadlock, e.g. a divergent __syncthreads, fails the test instead of hanging it).
// What it does not model: timing, memory coalescing and bank conflicts, warps running in lockstep (lanes run
// independently between collectives), and the hardware's summation order inside an mma (emulated in double,
// then added to the float accumulator).
//
// How to write a harness for a kernel file: #include "simt.h", then "common.cuh" and the .cu file (the test
// passes -I to the kernels' folder); launch with simt_launch(grid, threads, [&] { kernel(args...); }); print
// one line per check and last "N passed, M failed"; exit code 0 only when every check passed. Kernels must use
// dynamic shared memory only (extern __shared__ float smem[]: SIMT_SHARED_BYTES bytes, filled with NaN bytes
// at the start of each block so a read of memory never written shows up).
#pragma once
#define SIMT_EMULATION 1

#include <math.h>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
inline thread_local int simt_lane, simt_warp;
inline const char* simt_kernel = "";

#define SIMT_SHARED_BYTES 65536
alignas(16) float smem[SIMT_SHARED_BYTES / sizeof(float)];

// ---- barriers that threads can leave (an early return) ----------------------------------------------
class SimtBarrier {
    std::mutex m;
    std::condition_variable cv;
    int expected = 0, arrived = 0;
    unsigned long generation = 0;

public:
    const char* kind = "";
    void reset(int n) {
        std::lock_guard<std::mutex> g(m);
        expected = n;
        arrived = 0;
    }
    void wait() {
        std::unique_lock<std::mutex> l(m);
        const auto g = generation;
        if (++arrived == expected) {
            arrived = 0;
            ++generation;
            cv.notify_all();
            return;
        }
        if (!cv.wait_for(l, std::chrono::seconds(20), [&] { return generation != g; })) {
            std::fprintf(stderr, "SIMT deadlock in %s: %s barrier, block (%u, %u, %u), thread %u (%d of %d arrived)\n", simt_kernel, kind,
                         blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x, arrived, expected);
            std::fflush(stderr);
            std::abort();
        }
    }
    void leave() {
        std::lock_guard<std::mutex> g(m);
        --expected;
        if (expected > 0 && arrived == expected) {
            arrived = 0;
            ++generation;
            cv.notify_all();
        }
    }
};

struct SimtWarp {
    SimtBarrier barrier;
    uint64_t slot[32];
    unsigned a[32][4], b[32][2];
};

inline SimtBarrier simt_block;
inline std::vector<std::unique_ptr<SimtWarp>> simt_warps;

inline void __syncthreads() { simt_block.wait(); }

// ---- warp collectives ---------------------------------------------------------------------------
template <class T>
T simt_exchange(T v, int source) {
    static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
    SimtWarp& w = *simt_warps[simt_warp];
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    w.slot[simt_lane] = bits;
    w.barrier.wait();
    const uint64_t r = w.slot[source & 31];
    w.barrier.wait();
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

// ---- bit casts, 16-bit floats, integer min/max as CUDA's overloads ------------------------------------
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }

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
    SimtWarp& w = *simt_warps[simt_warp];
    std::memcpy(w.a[simt_lane], a, sizeof w.a[0]);
    std::memcpy(w.b[simt_lane], b, sizeof w.b[0]);
    w.barrier.wait();
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
    w.barrier.wait();   // every lane has read every fragment before any lane deposits its next ones
    std::memcpy(d, out, sizeof out);
}

inline void mma_16816_bf16(float* d, const unsigned* a, const unsigned* b) { simt_mma(d, a, b, false); }
inline void mma_16816_f16(float* d, const unsigned* a, const unsigned* b) { simt_mma(d, a, b, true); }

// ---- launch ----------------------------------------------------------------------------------------------
template <class F>
void simt_launch(const char* name, dim3 grid, unsigned threads, F&& body) {
    if (threads == 0 || threads % 32 != 0 || threads > 1024) {
        std::fprintf(stderr, "simt_launch(%s): %u threads (a multiple of 32 up to 1024)\n", name, threads);
        std::abort();
    }
    simt_kernel = name;
    blockDim = {threads, 1, 1};
    gridDim = grid;
    const unsigned warps = threads / 32;
    simt_warps.clear();
    for (unsigned w = 0; w < warps; ++w) {
        simt_warps.push_back(std::make_unique<SimtWarp>());
        simt_warps.back()->barrier.kind = "warp";
    }
    simt_block.kind = "__syncthreads";
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                std::memset(smem, 0xff, sizeof smem);   // NaN bytes: a read of unwritten shared memory shows
                simt_block.reset((int)threads);
                for (auto& w : simt_warps) w->barrier.reset(32);
                std::vector<std::thread> pool;
                pool.reserve(threads);
                for (unsigned i = 0; i < threads; ++i)
                    pool.emplace_back([&, i] {
                        threadIdx = {i, 0, 0};
                        blockIdx = {x, y, z};
                        simt_lane = (int)(i & 31);
                        simt_warp = (int)(i >> 5);
                        body();
                        simt_block.leave();
                        simt_warps[simt_warp]->barrier.leave();
                    });
                for (auto& t : pool) t.join();
            }
}
