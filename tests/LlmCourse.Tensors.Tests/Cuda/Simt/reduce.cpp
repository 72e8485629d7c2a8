// reduce.cu on the CPU emulator (simt.h), launched as CudaBackend.Reductions.cs and CudaBackend.cs launch
// it: sum/max/min (with indices) over rows (reduce_rows, block sizes as the host picks them) and columns
// (reduce_columns), a few long rows in chunks (sum_rows_chunked, then reduce_rows over the chunks), long
// columns in chunks (sum_columns_chunked, then reduce_columns), cumsum, find_nonfinite, the sum of squares
// in double (sum_squares_partial + sum_partials_d) and top-k (topk_rows). The references: sums in double
// (float kernels within 1e-5 + 1e-4 |x|, the double sum of squares within 1e-12 relative); selections exact,
// with PyTorch's rules (a NaN wins max/min and top-k's largest; equal values: the first index).
#include "simt.h"
#include "harness.h"
#include "common.cuh"
#include "reduce.cu"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>


static bool near(double expected, double actual, double atol = 1e-5, double rtol = 1e-4) {
    if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);   // a NaN sums to NaN
    return std::fabs(actual - expected) <= atol + rtol * std::fabs(expected);
}

// Small integers as floats: every partial sum is exact, so a sum that misses or repeats one element is wrong by at least 1.
static std::vector<float> small_ints(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> d(-3, 5);
    std::vector<float> v(n);
    for (auto& x : v) x = (float)d(rng);
    return v;
}

static std::vector<float> randn(size_t n, unsigned seed, float shift = 0.f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = normal(rng) + shift;
    return v;
}

static unsigned row_threads(int size) { return size >= 4096 ? 512 : size >= 512 ? 256 : size >= 64 ? 64 : 32; }
static const unsigned Threads = 256;
static dim3 grid_for(long long n, unsigned cap = 3) { return dim3{(unsigned)std::max(1LL, std::min((n + Threads - 1) / Threads, (long long)cap)), 1, 1}; }

// The index of the max (isMax) or min of x[first + r * stride], r < size: NaN first, then the extreme, then the lowest r.
static int best_index(const float* x, int size, long long stride, bool isMax) {
    int at = 0;
    for (int r = 1; r < size; ++r) {
        const float v = x[r * stride], b = x[at * stride];
        if (b != b) break;
        if (v != v || (isMax ? v > b : v < b)) at = r;
    }
    return at;
}

static void rows_case(int outer, int size) {
    auto x = randn((size_t)outer * size, 100 + size);
    if (size > 3) { x[2] = x[size - 1] = 5.f; x[size + 1] = NAN; x[size + 3] = -NAN; }   // a tie for row 0's max, NaNs in row 1
    for (int op = 0; op <= 2; ++op) {
        std::vector<float> y(outer, -7.f);
        std::vector<int> idx(outer, -7);
        simt_launch("reduce_rows", dim3{(unsigned)outer, 1, 1}, row_threads(size), [&] { reduce_rows(op, x.data(), size, y.data(), op ? idx.data() : nullptr); });
        bool ok = true;
        for (int o = 0; o < outer; ++o) {
            const float* row = &x[(size_t)o * size];
            if (op == 0) ok = ok && near(std::accumulate(row, row + size, 0.0), y[o]);
            else {
                const int at = best_index(row, size, 1, op == 1);
                ok = ok && idx[o] == at && (std::isnan(row[at]) ? std::isnan(y[o]) : y[o] == row[at]);
            }
        }
        check(ok, std::string(op == 0 ? "sum" : op == 1 ? "max" : "min") + " over rows of " + std::to_string(size) + " (" + std::to_string(row_threads(size)) + " threads)");
    }
}

int main() {
    for (int size : {1, 37, 1000, 5000}) rows_case(3, size);

    {   // A few long rows: chunk sums on many blocks, then the chunks in order (sum_rows_chunked).
        const int outer = 2, size = 70001, chunk = 16384, chunks = (size + chunk - 1) / chunk;
        auto x = small_ints((size_t)outer * size, 7);
        std::vector<float> partial((size_t)outer * chunks, NAN), y(outer, NAN);
        simt_launch("sum_rows_chunked", dim3{(unsigned)(outer * chunks), 1, 1}, 512, [&] { sum_rows_chunked(x.data(), size, chunk, chunks, partial.data()); });
        simt_launch("reduce_rows", dim3{(unsigned)outer, 1, 1}, row_threads(chunks), [&] { reduce_rows(0, partial.data(), chunks, y.data(), nullptr); });
        bool ok = true;
        for (int o = 0; o < outer; ++o) ok = ok && std::accumulate(&x[(size_t)o * size], &x[(size_t)(o + 1) * size], 0.0) == y[o];
        check(ok, "sum of 2 rows of 70001 small integers in chunks of 16384: exact");
    }

    {   // Columns: [outer, size, inner] over the middle axis, one thread per (outer, column).
        const int outer = 3, size = 17, inner = 7;
        auto x = randn((size_t)outer * size * inner, 8);
        x[inner * 4 + 2] = NAN;   // (o 0, r 4, j 2)
        for (int op = 0; op <= 2; ++op) {
            std::vector<float> y((size_t)outer * inner, -7.f);
            std::vector<int> idx((size_t)outer * inner, -7);
            simt_launch("reduce_columns", grid_for((long long)outer * inner, 1), Threads, [&] {
                reduce_columns(op, x.data(), outer, size, inner, y.data(), op ? idx.data() : nullptr);
            });
            bool ok = true;
            for (int o = 0; o < outer; ++o)
                for (int j = 0; j < inner; ++j) {
                    const float* col = &x[(size_t)o * size * inner + j];
                    const size_t t = (size_t)o * inner + j;
                    if (op == 0) {
                        double s = 0;
                        for (int r = 0; r < size; ++r) s += col[(size_t)r * inner];
                        ok = ok && (std::isnan(s) ? std::isnan(y[t]) : near(s, y[t]));
                    } else {
                        const int at = best_index(col, size, inner, op == 1);
                        ok = ok && idx[t] == at && (std::isnan(col[(size_t)at * inner]) ? std::isnan(y[t]) : y[t] == col[(size_t)at * inner]);
                    }
                }
            check(ok, std::string(op == 0 ? "sum" : op == 1 ? "max" : "min") + " over columns (3 x 17 x 7, a NaN)");
        }
    }

    {   // Long columns: chunk sums, then the chunks (a bias gradient over many rows).
        const int outer = 2, size = 500, inner = 3, chunkRows = 64, chunks = (size + chunkRows - 1) / chunkRows;
        auto x = small_ints((size_t)outer * size * inner, 9);
        std::vector<float> partial((size_t)outer * chunks * inner, NAN), y((size_t)outer * inner, NAN);
        simt_launch("sum_columns_chunked", grid_for((long long)outer * chunks * inner, 2), Threads, [&] {
            sum_columns_chunked(x.data(), outer, size, inner, chunkRows, chunks, partial.data());
        });
        simt_launch("reduce_columns", grid_for((long long)outer * inner, 1), Threads, [&] {
            reduce_columns(0, partial.data(), outer, chunks, inner, y.data(), nullptr);
        });
        bool ok = true;
        for (int o = 0; o < outer; ++o)
            for (int j = 0; j < inner; ++j) {
                double s = 0;
                for (int r = 0; r < size; ++r) s += x[((size_t)o * size + r) * inner + j];
                ok = ok && s == y[(size_t)o * inner + j];
            }
        check(ok, "long column sums of small integers in chunks of 64 rows (2 x 500 x 3): exact");
    }

    {   // cumsum along the middle axis, accumulated in double.
        const int outer = 2, size = 300, inner = 5;
        auto x = randn((size_t)outer * size * inner, 10);
        std::vector<float> y(x.size(), NAN);
        simt_launch("cumsum", grid_for((long long)outer * inner, 1), Threads, [&] { cumsum(x.data(), outer, size, inner, y.data()); });
        bool ok = true;
        for (int o = 0; o < outer; ++o)
            for (int j = 0; j < inner; ++j) {
                double acc = 0;
                for (int r = 0; r < size; ++r) {
                    const size_t k = ((size_t)o * size + r) * inner + j;
                    acc += x[k];
                    ok = ok && y[k] == (float)acc;
                }
            }
        check(ok, "cumsum (2 x 300 x 5) equals the double running sums rounded");
    }

    {   // find_nonfinite: flags for NaN and infinity anywhere, including past the first grid pass.
        auto x = randn(3000, 11);
        int flags[2] = {0, 0};
        simt_launch("find_nonfinite", grid_for(3000, 2), Threads, [&] { find_nonfinite(x.data(), 3000, flags); });
        const bool clean = flags[0] == 0 && flags[1] == 0;
        x[2999] = -INFINITY;
        simt_launch("find_nonfinite", grid_for(3000, 2), Threads, [&] { find_nonfinite(x.data(), 3000, flags); });
        const bool inf = flags[0] == 0 && flags[1] == 1;
        x[1234] = NAN;
        flags[0] = flags[1] = 0;
        simt_launch("find_nonfinite", grid_for(3000, 2), Threads, [&] { find_nonfinite(x.data(), 3000, flags); });
        check(clean && inf && flags[0] == 1 && flags[1] == 1, "find_nonfinite: none, then -inf at the end, then a NaN too");
    }

    {   // The sum of squares in double: per-block partials, then one block adds them in order.
        const long long n = 100003;
        auto x = randn((size_t)n, 12);
        const int blocks = (int)std::min((n + Threads - 1) / Threads, 1024LL);
        std::vector<double> partial(blocks, NAN);
        double total = NAN;
        simt_launch("sum_squares_partial", dim3{(unsigned)blocks, 1, 1}, Threads, [&] { sum_squares_partial(x.data(), n, partial.data()); });
        simt_launch("sum_partials_d", dim3{1, 1, 1}, Threads, [&] { sum_partials_d(partial.data(), blocks, &total); });
        double expected = 0;
        for (float v : x) expected += (double)v * v;
        check(std::fabs(total - expected) <= 1e-12 * expected, "sum of squares of 100003 values in double: " + std::to_string(total));
    }

    {   // top-k per row: k passes, each the best element ranked after the previous one.
        const int rows = 3, n = 1000, k = 7;
        auto x = randn((size_t)rows * n, 13);
        x[10] = x[20] = x[30] = 9.f;           // ties in row 0: indices in ascending order
        x[n + 500] = NAN;                       // row 1: NaN ranks largest
        for (int largest = 0; largest <= 1; ++largest) {
            std::vector<float> values((size_t)rows * k, -7.f);
            std::vector<int> indices((size_t)rows * k, -7);
            simt_launch("topk_rows", dim3{(unsigned)rows, 1, 1}, Threads, [&] {
                topk_rows(x.data(), n, k, largest, values.data(), indices.data());
            });
            bool ok = true;
            for (int r = 0; r < rows; ++r) {
                std::vector<int> order(n);
                std::iota(order.begin(), order.end(), 0);
                const float* row = &x[(size_t)r * n];
                std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
                    const float va = row[a], vb = row[b];
                    const bool na = va != va, nb = vb != vb;
                    if (na || nb) return largest ? (na && !nb) : (!na && nb);
                    return largest ? va > vb : va < vb;
                });
                for (int t = 0; t < k; ++t) {
                    const int want = order[t];
                    const float got = values[(size_t)r * k + t];
                    ok = ok && indices[(size_t)r * k + t] == want && (std::isnan(row[want]) ? std::isnan(got) : got == row[want]);
                }
            }
            check(ok, std::string("top-") + std::to_string(k) + (largest ? " largest" : " smallest") + " of 3 rows of 1000 (ties, a NaN)");
        }
    }

    return simt_report();
}
