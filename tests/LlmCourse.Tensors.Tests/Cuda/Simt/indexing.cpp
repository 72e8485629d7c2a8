// indexing.cu on the CPU emulator (simt.h), launched as CudaBackend.Indexing.cs launches it:
// - IndexAdd (embedding backward): the five-step counting sort then the ordered add must give the same bits
//   as adding each row's contributions in index order in float (the CPU backend's order), for repeated ids,
//   one id repeated everywhere, ids that never occur, several outer slices and out-of-range ids (skipped);
// - check_indices: the first bad id (lowest position) lands in the error slot with its value, an allowed
//   value (cross-entropy's ignoreIndex) is not an error, a second failing launch does not overwrite the first;
// - index_select: rows picked exactly; a bad id reads as 0 and nothing outside x is read.
// Elementwise kernels get the backend's 256 threads and a small grid, so the grid-stride loops wrap.
#include "simt.h"
#include "harness.h"
#include "common.cuh"
#include "indexing.cu"

#include <random>
#include <string>


static const unsigned Threads = 256;
static dim3 grid_for(long long n, unsigned cap = 3) { return dim3{(unsigned)std::max(1LL, std::min((n + Threads - 1) / Threads, (long long)cap)), 1, 1}; }

static void index_add_case(const std::string& name, const std::vector<int>& ids, int outer, int size, int inner, unsigned seed) {
    const int count = (int)ids.size();
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::vector<float> g((size_t)outer * count * inner), gx((size_t)outer * size * inner), expected;
    for (auto& x : g) x = normal(rng);
    for (auto& x : gx) x = normal(rng);   // IndexAdd adds into what is there
    expected = gx;
    for (int o = 0; o < outer; ++o)
        for (int p = 0; p < count; ++p) {
            const int v = ids[p];
            if (v < 0 || v >= size) continue;
            for (int j = 0; j < inner; ++j) expected[((size_t)o * size + v) * inner + j] += g[((size_t)o * count + p) * inner + j];
        }
    std::vector<int> counts(size, 0), cursor(size, 0), starts(size + 1, -7), unordered(count, -7), positions(count, -7);
    simt_launch("index_histogram", grid_for(count), Threads, [&] { index_histogram(ids.data(), count, size, counts.data()); });
    simt_launch("exclusive_scan_block", dim3{1, 1, 1}, 1024, [&] { exclusive_scan_block(counts.data(), size, starts.data()); });
    simt_launch("index_bucket", grid_for(count), Threads, [&] {
        index_bucket(ids.data(), count, size, starts.data(), cursor.data(), unordered.data());
    });
    simt_launch("index_rank", grid_for(count), Threads, [&] {
        index_rank(ids.data(), count, size, starts.data(), unordered.data(), positions.data());
    });
    simt_launch("index_add_sorted", grid_for((long long)outer * size * inner), Threads, [&] {
        index_add_sorted(g.data(), starts.data(), positions.data(), outer, size, inner, count, gx.data());
    });
    // The scan against a sequential one, then the result bit for bit.
    bool scanOk = starts[0] == 0;
    for (int v = 0; v < size; ++v) scanOk = scanOk && starts[v + 1] == starts[v] + counts[v];
    check(scanOk, name + ": exclusive scan of the id counts");
    size_t differing = 0;
    for (size_t i = 0; i < gx.size(); ++i) differing += std::memcmp(&gx[i], &expected[i], 4) != 0;
    check(differing == 0, name + ": IndexAdd equals the in-order float sums bit for bit (" + std::to_string(differing) + " of " +
                              std::to_string(gx.size()) + " differ)");
}

int main() {
    std::mt19937 rng(7);
    {
        std::vector<int> ids(1000);
        std::uniform_int_distribution<int> id(0, 64);
        for (auto& v : ids) v = id(rng);
        index_add_case("char vocabulary (1000 ids of 65)", ids, 1, 65, 12, 1);
    }
    index_add_case("one id everywhere (300 x id 3)", std::vector<int>(300, 3), 1, 10, 7, 2);
    {
        std::vector<int> ids = {5, 0, 5, 9, 0, 0, 2};   // ids 1, 3, 4, 6, 7, 8 never occur
        index_add_case("absent ids, two outer slices", ids, 2, 10, 3, 3);
    }
    {
        std::vector<int> ids = {1, -1, 4, 10, 1, 4};    // -1 and 10 out of range: skipped
        index_add_case("out-of-range ids skipped", ids, 1, 10, 5, 4);
    }
    {
        std::vector<int> ids(2500);
        std::uniform_int_distribution<int> id(0, 1999);
        for (auto& v : ids) v = id(rng);
        index_add_case("a larger vocabulary (2500 ids of 2000: the scan's stretches)", ids, 1, 2000, 2, 5);
    }

    // check_indices: positions 7 (value 12) and 3 (value -2) are bad; the lowest position wins.
    {
        std::vector<int> ids = {0, 1, 2, -2, 4, 5, 6, 12, 8, -100};
        ErrorSlot slot{0, 0, ~0ull};
        simt_launch("check_indices", grid_for((long long)ids.size()), Threads, [&] {
            check_indices(ids.data(), (i64)ids.size(), 10, -100, 1, &slot, 41, 5);
        });
        check(slot.launch == 41 && slot.check == 5 && (slot.first >> 32) == 3 && (int)(unsigned)slot.first == -2,
              "check_indices: the lowest bad position (3, value -2) and the launch's ids; the allowed -100 passes");
        simt_launch("check_indices", grid_for((long long)ids.size()), Threads, [&] {
            check_indices(ids.data(), (i64)ids.size(), 5, 0, 0, &slot, 42, 6);
        });
        check(slot.launch == 41 && slot.check == 5 && (slot.first >> 32) == 3, "check_indices: a later failing launch leaves the first failure");
        std::vector<int> good = {0, 3, 9};
        ErrorSlot clear{0, 0, ~0ull};
        simt_launch("check_indices", grid_for(3), Threads, [&] { check_indices(good.data(), 3, 10, 0, 0, &clear, 43, 7); });
        check(clear.launch == 0 && clear.first == ~0ull, "check_indices: good ids leave the slot clear");
    }

    // index_select: y[o, i, :] = x[o, ids[i], :]; a bad id reads as 0.
    {
        const int outer = 2, size = 6, inner = 3;
        std::vector<float> x((size_t)outer * size * inner);
        for (size_t i = 0; i < x.size(); ++i) x[i] = (float)i + 0.5f;
        std::vector<int> ids = {5, 0, 7, 2, -1};
        const int count = (int)ids.size();
        std::vector<float> y((size_t)outer * count * inner, NAN);
        simt_launch("index_select", grid_for((long long)y.size()), Threads, [&] {
            index_select(x.data(), ids.data(), outer, size, inner, count, y.data());
        });
        bool ok = true;
        for (int o = 0; o < outer; ++o)
            for (int i = 0; i < count; ++i)
                for (int j = 0; j < inner; ++j) {
                    const int v = ids[i];
                    const float want = v >= 0 && v < size ? x[((size_t)o * size + v) * inner + j] : 0.f;
                    ok = ok && y[((size_t)o * count + i) * inner + j] == want;
                }
        check(ok, "index_select: rows picked exactly, bad ids read as 0");
    }

    return simt_report();
}
