// The CUDA driver API, NVRTC and cuBLAS as the engine calls them, on the CPU, so the CUDA backend itself
// (its C# launchers, allocator, copies, matmul layouts and the kernels together) runs its Category=Cuda tests
// with no GPU. CudaOnTheEmulatorTests builds this file into one shared library under the sonames the
// backend looks for (libcuda.so.1, libnvrtc.so.13, libcublas.so.13) and runs those tests in a child process
// whose LD_LIBRARY_PATH finds it first. The product code is unchanged: it loads these as it would CUDA.
//
//   NVRTC      "compiles" a kernel file with g++ and simt.h (threads as fibers, see there) into a shared
//              object, cached on disk by the hash of what was compiled; the "PTX" it returns is a text naming
//              that hash, the kernels' .entry lines with their parameter types (so the backend's argument
//              check runs), and the C++ source (so a module loads even when the cache was cleared).
//   driver     memory is host memory: each allocation between two inaccessible pages (an out-of-bounds
//              access by a few elements crashes instead of corrupting), filled with 0xff bytes (NaN floats, -1
//              integers: code that reads memory it never wrote shows), unmapped when freed (a use after free
//              crashes). Copies and memsets are checked against the allocations (CUDA_ERROR_INVALID_VALUE
//              otherwise, with a line on stderr). Launches run at once, block after block, on the calling
//              thread; everything is serialized by one lock. A launch is refused as CUDA would refuse it
//              (grid and block limits, more than 48 KiB of dynamic shared memory without
//              cuFuncSetAttribute), and where the emulator cannot run it (blocks not a multiple of 32 threads).
//              A copy from page-locked memory (cuMemHostAlloc) is asynchronous as on a GPU: it is queued and runs
//              only at the next operation of the stream (a launch, GEMM, other copy, memset, free or wait), and an
//              event recorded after it stays not ready until then. So reusing a staging buffer before its event
//              has passed overwrites bytes the queued copy has not read yet, and the data that arrives is wrong.
//   cuBLAS     cublasGemmStridedBatchedEx in double from the documented column-major definition, TF32 inputs
//              rounded to TF32; every matrix it touches must lie inside one allocation.
// The device it reports: compute capability $SIMT_CUDA_CC (default 90: the tensor-core paths), 4
// multiprocessors (so grid-stride loops do loop), $SIMT_CUDA_MEMORY_MB of memory (default 4096).
//
// SIMT_CUDA_HOST_ONLY=1 measures the host's side of a GPU program: every call is checked as above, but no
// kernel, GEMM, memset or copy runs, memory is not filled, and every read-back gives zeros (so a program's
// control flow sees the same values run after run, never a NaN, whatever the allocator reuses). What a
// benchmark then times is the engine's own work per step (autograd, allocator, launch arguments): the least
// a step can take on a real GPU, whatever the GPU, plus the real driver's launch cost (a few µs per launch).
// SIMT_CUDA_COUNT=1 prints at exit how many kernels were launched, GEMMs called and copies made each way.
// simt_cuda_limit_pinned(n), a test hook: only n more cuMemHostAlloc calls succeed (a machine refusing pinned memory).
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#ifndef SIMT_DIR
#error "build with -DSIMT_DIR=\"<the folder of simt.h>\""
#endif

struct dim3 {   // as simt.h's, which the modules use
    unsigned x = 1, y = 1, z = 1;
};

namespace {

constexpr int CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_OUT_OF_MEMORY = 2, CUDA_ERROR_INVALID_DEVICE = 101,
              CUDA_ERROR_INVALID_IMAGE = 200, CUDA_ERROR_INVALID_HANDLE = 400, CUDA_ERROR_NOT_FOUND = 500,
              CUDA_ERROR_NOT_READY = 600, CUDA_ERROR_LAUNCH_FAILED = 719;
constexpr size_t SharedBytes = 227 * 1024;    // an H100's opt-in maximum per block
constexpr size_t DefaultSharedBytes = 48 * 1024;

std::recursive_mutex big;   // one thing at a time: the emulator's state is global
#define LOCK std::lock_guard<std::recursive_mutex> lock(big)

void fail(const char* what, const std::string& message) { std::fprintf(stderr, "[simt-cuda] %s: %s\n", what, message.c_str()); }

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

// ---- memory -------------------------------------------------------------------------------------------
struct Allocation {
    char* map;          // the mapping, guard pages included
    size_t mapBytes;
    size_t bytes;       // as asked
};
std::map<uintptr_t, Allocation> allocations;   // by device address
size_t allocatedBytes = 0;

bool host_only() {
    static const bool on = env_int("SIMT_CUDA_HOST_ONLY", 0) != 0;
    return on;
}

// What SIMT_CUDA_COUNT=1 prints when the process ends.
struct Counts {
    size_t launches = 0, gemms = 0, toDevice = 0, pinnedToDevice = 0, toHost = 0;
    ~Counts() {
        if (env_int("SIMT_CUDA_COUNT", 0))
            std::fprintf(stderr, "[simt-cuda] counts: %zu kernel launches, %zu GEMM calls, %zu copies to the device, %zu to the host; "
                         "%zu of the copies to the device from page-locked memory\n",
                         launches, gemms, toDevice, toHost, pinnedToDevice);
    }
} counts;

// ---- page-locked host memory, the copies queued from it, events ---------------------------------------
std::map<uintptr_t, size_t> pinned;   // cuMemHostAlloc's blocks: start -> bytes
struct QueuedCopy {
    uint64_t destination;
    const void* source;
    size_t bytes;
};
std::vector<QueuedCopy> queued;
uint64_t copiesQueued = 0, copiesDone = 0;   // an event waits for the copies queued before its record
struct Event {
    uint64_t after = 0;
};

bool is_pinned(const void* source, size_t bytes) {
    auto it = pinned.upper_bound((uintptr_t)source);
    if (it == pinned.begin()) return false;
    --it;
    return (uintptr_t)source + bytes <= it->first + it->second;
}

// The stream reaches its next operation: the copies queued before it run now, in order.
void run_queued() {
    for (const auto& c : queued) std::memcpy((void*)(uintptr_t)c.destination, c.source, c.bytes);
    queued.clear();
    copiesDone = copiesQueued;
}

size_t total_memory() { return (size_t)env_int("SIMT_CUDA_MEMORY_MB", 4096) << 20; }

// The allocation holding [address, address + bytes), or null.
const Allocation* find(uintptr_t address, size_t bytes) {
    auto it = allocations.upper_bound(address);
    if (it == allocations.begin()) return nullptr;
    --it;
    uintptr_t start = it->first;
    size_t usable = (it->second.bytes + 255) & ~(size_t)255;
    return address >= start && address + bytes <= start + usable ? &it->second : nullptr;
}

bool check_range(const char* call, uintptr_t address, size_t bytes) {
    if (bytes == 0 || find(address, bytes)) return true;
    char text[160];
    std::snprintf(text, sizeof text, "%zu bytes at 0x%zx are not inside one allocation", bytes, (size_t)address);
    fail(call, text);
    return false;
}

// ---- NVRTC: g++ and simt.h ------------------------------------------------------------------------------
std::string cache_folder() {
    if (const char* c = std::getenv("SIMT_CUDA_CACHE"); c && *c) return c;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/llmcourse/simt-cuda";
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "/tmp") + "/.cache/llmcourse/simt-cuda";
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::string hex_hash(const std::string& text) {   // FNV-1a 64, twice with different seeds: a cache key, not security
    uint64_t a = 1469598103934665603ull, b = 0x9e3779b97f4a7c15ull;
    for (unsigned char c : text) {
        a = (a ^ c) * 1099511628211ull;
        b = (b ^ c) * 0x100000001b3ull + 0x7f4a7c15;
    }
    char out[40];
    std::snprintf(out, sizeof out, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
    return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
    return s;
}

// The C++ the emulator compiles: static shared memory becomes a function's static (blocks run one after
// another, so one copy is exactly a block's), dynamic shared memory simt.h's buffer; then the entries.
std::string module_source(const std::string& cuda, std::vector<std::string>& kernels) {
    std::string s = replace_all(replace_all(cuda, "extern __shared__", "extern"), "__shared__", "static");
    static const std::regex entry(R"(extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\()");
    for (auto it = std::sregex_iterator(s.begin(), s.end(), entry); it != std::sregex_iterator(); ++it) kernels.push_back((*it)[1]);
    std::string out = "#include \"simt.h\"\n#include \"simt_module.h\"\n" + s + "\n";
    for (auto& k : kernels) out += "SIMT_ENTRY(" + k + ")\n";
    return out;
}

// Compiles (once: cached by hash) and returns the shared object's path, or "" with the log.
std::string build_module(const std::string& source, std::string& log) {
    const std::string simt = read_file(SIMT_DIR "/simt.h") + read_file(SIMT_DIR "/simt_module.h");
    const std::string hash = hex_hash(source + simt);
    const std::string folder = cache_folder();
    const std::string so = folder + "/" + hash + ".so";
    if (access(so.c_str(), R_OK) == 0) return so;
    if (std::system(("mkdir -p '" + folder + "'").c_str()) != 0) { log = "cannot create " + folder; return ""; }
    const std::string stem = folder + "/" + hash + "." + std::to_string(getpid());
    { std::ofstream(stem + ".cpp", std::ios::binary) << source; }
    const std::string command = "g++ -std=c++20 -O2 -shared -fPIC -fno-gnu-unique -w -I'" SIMT_DIR "' -DSIMT_SHARED_BYTES=" +
        std::to_string(SharedBytes) + " '" + stem + ".cpp' -o '" + stem + ".so' > '" + stem + ".log' 2>&1";
    const int status = std::system(command.c_str());
    log = read_file(stem + ".log");
    std::remove((stem + ".cpp").c_str());
    std::remove((stem + ".log").c_str());
    if (status != 0) { std::remove((stem + ".so").c_str()); return ""; }
    std::rename((stem + ".so").c_str(), so.c_str());   // atomically: another process may be compiling the same
    return so;
}

struct Program {
    std::string cuda, name, ptx, log;
};

struct Module {
    void* library;
};

struct Function {
    void (*entry)(dim3, unsigned, void**);
    std::string name;
    int maxDynamicShared = (int)DefaultSharedBytes;
};

const char* PtxMagic = "// simt-cuda module\n";
const char* SourceMarker = "// source follows\n";

}   // namespace

extern "C" {

// ---- driver -------------------------------------------------------------------------------------------
int cuInit(unsigned) { return CUDA_SUCCESS; }
int cuDriverGetVersion(int* v) { *v = 12080; return CUDA_SUCCESS; }
int cuDeviceGetCount(int* n) { *n = 1; return CUDA_SUCCESS; }
int cuDeviceGet(int* d, int ordinal) {
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *d = 0;
    return CUDA_SUCCESS;
}
int cuDeviceGetName(char* name, int length, int) {
    std::snprintf(name, (size_t)length, "SIMT emulator on the CPU (tests/LlmCourse.Tensors.Tests/Cuda/Simt)");
    return CUDA_SUCCESS;
}
int cuDeviceGetAttribute(int* value, int attribute, int) {
    const int cc = env_int("SIMT_CUDA_CC", 90);
    switch (attribute) {
        case 16: *value = 4; return CUDA_SUCCESS;                       // multiprocessors
        case 75: *value = cc / 10; return CUDA_SUCCESS;                 // compute capability
        case 76: *value = cc % 10; return CUDA_SUCCESS;
        case 97: *value = (int)SharedBytes; return CUDA_SUCCESS;        // max shared memory per block, opt-in
        case 8: *value = (int)DefaultSharedBytes; return CUDA_SUCCESS;  // max shared memory per block
        case 1: *value = 1024; return CUDA_SUCCESS;                     // max threads per block
        case 10: *value = 32; return CUDA_SUCCESS;                      // warp size
        default: fail("cuDeviceGetAttribute", "attribute " + std::to_string(attribute) + " is not emulated"); return CUDA_ERROR_INVALID_VALUE;
    }
}
int cuDeviceTotalMem_v2(size_t* bytes, int) { *bytes = total_memory(); return CUDA_SUCCESS; }
int cuDevicePrimaryCtxRetain(void** context, int) { *context = (void*)0x1000; return CUDA_SUCCESS; }
int cuDevicePrimaryCtxRelease_v2(int) { return CUDA_SUCCESS; }
int cuCtxSetCurrent(void*) { return CUDA_SUCCESS; }
int cuCtxSynchronize() {
    LOCK;
    run_queued();
    return CUDA_SUCCESS;
}

int cuMemAlloc_v2(uint64_t* address, size_t bytes) {
    LOCK;
    if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (allocatedBytes + bytes > total_memory()) return CUDA_ERROR_OUT_OF_MEMORY;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), usable = (bytes + 255) & ~(size_t)255;
    const size_t pages = (usable + page - 1) / page * page, mapBytes = pages + 2 * page;
    auto* map = (char*)mmap(nullptr, mapBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
    mprotect(map + page, pages, PROT_READ | PROT_WRITE);
    char* start = map + page + pages - usable;   // so that the end touches the guard page
    if (!host_only()) std::memset(start, 0xff, usable);
    allocations[(uintptr_t)start] = {map, mapBytes, bytes};
    allocatedBytes += bytes;
    *address = (uint64_t)(uintptr_t)start;
    return CUDA_SUCCESS;
}
int cuMemFree_v2(uint64_t address) {
    LOCK;
    run_queued();
    auto it = allocations.find((uintptr_t)address);
    if (it == allocations.end()) { fail("cuMemFree_v2", "not an allocation"); return CUDA_ERROR_INVALID_VALUE; }
    munmap(it->second.map, it->second.mapBytes);
    allocatedBytes -= it->second.bytes;
    allocations.erase(it);
    return CUDA_SUCCESS;
}
int cuMemGetInfo_v2(size_t* free, size_t* total) {
    LOCK;
    *total = total_memory();
    *free = *total - allocatedBytes;
    return CUDA_SUCCESS;
}
int cuMemcpyHtoDAsync_v2(uint64_t destination, const void* source, size_t bytes, void*) {
    LOCK;
    if (!check_range("cuMemcpyHtoDAsync_v2", destination, bytes)) return CUDA_ERROR_INVALID_VALUE;
    ++counts.toDevice;
    const bool fromPinned = is_pinned(source, bytes);
    if (fromPinned) ++counts.pinnedToDevice;
    if (host_only()) return CUDA_SUCCESS;
    if (fromPinned) {   // DMA from page-locked memory: it runs later, when the stream gets to it
        queued.push_back({destination, source, bytes});
        ++copiesQueued;
        return CUDA_SUCCESS;
    }
    run_queued();   // pageable: the driver stages the bytes now, behind what was queued
    std::memcpy((void*)(uintptr_t)destination, source, bytes);
    return CUDA_SUCCESS;
}
int cuMemcpyDtoHAsync_v2(void* destination, uint64_t source, size_t bytes, void*) {
    LOCK;
    run_queued();
    if (!check_range("cuMemcpyDtoHAsync_v2", source, bytes)) return CUDA_ERROR_INVALID_VALUE;
    ++counts.toHost;
    if (host_only()) std::memset(destination, 0, bytes);
    else std::memcpy(destination, (const void*)(uintptr_t)source, bytes);
    return CUDA_SUCCESS;
}
int cuMemcpyDtoDAsync_v2(uint64_t destination, uint64_t source, size_t bytes, void*) {
    LOCK;
    run_queued();
    if (!check_range("cuMemcpyDtoDAsync_v2 (destination)", destination, bytes) || !check_range("cuMemcpyDtoDAsync_v2 (source)", source, bytes))
        return CUDA_ERROR_INVALID_VALUE;
    if (host_only()) return CUDA_SUCCESS;
    std::memmove((void*)(uintptr_t)destination, (const void*)(uintptr_t)source, bytes);
    return CUDA_SUCCESS;
}
int cuMemsetD32Async(uint64_t destination, unsigned value, size_t count, void*) {
    LOCK;
    run_queued();
    if (!check_range("cuMemsetD32Async", destination, count * 4)) return CUDA_ERROR_INVALID_VALUE;
    if (host_only()) return CUDA_SUCCESS;
    auto* p = (unsigned*)(uintptr_t)destination;
    for (size_t i = 0; i < count; ++i) p[i] = value;
    return CUDA_SUCCESS;
}
int cuMemsetD16Async(uint64_t destination, unsigned short value, size_t count, void*) {
    LOCK;
    run_queued();
    if (!check_range("cuMemsetD16Async", destination, count * 2)) return CUDA_ERROR_INVALID_VALUE;
    if (host_only()) return CUDA_SUCCESS;
    auto* p = (unsigned short*)(uintptr_t)destination;
    for (size_t i = 0; i < count; ++i) p[i] = value;
    return CUDA_SUCCESS;
}
int cuStreamCreate(void** stream, unsigned) { *stream = (void*)0x2000; return CUDA_SUCCESS; }
int cuStreamDestroy_v2(void*) { return CUDA_SUCCESS; }
int cuStreamSynchronize(void*) {
    LOCK;
    run_queued();
    return CUDA_SUCCESS;
}

// A test hook, not a CUDA entry point: how many more cuMemHostAlloc calls succeed (-1, the default: all). 0 models
// a machine that refuses page-locked memory (a container's low memlock limit, or the pinned pool used up):
// cuMemHostAlloc then fails with out of memory, as the driver does. Returns the calls refused since the last call.
long long pinnedGrants = -1, pinnedRefused = 0;
long long simt_cuda_limit_pinned(long long grants) {
    LOCK;
    pinnedGrants = grants;
    const long long refused = pinnedRefused;
    pinnedRefused = 0;
    return refused;
}

int cuMemHostAlloc(void** pointer, size_t bytes, unsigned) {
    LOCK;
    if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (pinnedGrants == 0) {
        ++pinnedRefused;
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (pinnedGrants > 0) --pinnedGrants;
    void* p = std::malloc(bytes);
    if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
    pinned[(uintptr_t)p] = bytes;
    *pointer = p;
    return CUDA_SUCCESS;
}
int cuMemFreeHost(void* pointer) {
    LOCK;
    auto it = pinned.find((uintptr_t)pointer);
    if (it == pinned.end()) { fail("cuMemFreeHost", "not a block of cuMemHostAlloc"); return CUDA_ERROR_INVALID_VALUE; }
    run_queued();   // as CUDA: freeing page-locked memory waits for the copies from it
    pinned.erase(it);
    std::free(pointer);
    return CUDA_SUCCESS;
}
int cuEventCreate(void** event, unsigned) {
    *event = new Event{};
    return CUDA_SUCCESS;
}
int cuEventDestroy_v2(void* event) {
    delete (Event*)event;
    return CUDA_SUCCESS;
}
int cuEventRecord(void* event, void*) {
    LOCK;
    ((Event*)event)->after = copiesQueued;
    return CUDA_SUCCESS;
}
int cuEventQuery(void* event) {
    LOCK;
    return copiesDone >= ((Event*)event)->after ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}
int cuEventSynchronize(void* event) {
    LOCK;
    if (copiesDone < ((Event*)event)->after) run_queued();
    return CUDA_SUCCESS;
}

int cuModuleLoadData(void** module, const void* image) {
    LOCK;
    const std::string text((const char*)image);
    if (text.rfind(PtxMagic, 0) != 0) { fail("cuModuleLoadData", "not a module of the emulated NVRTC"); return CUDA_ERROR_INVALID_IMAGE; }
    const size_t at = text.find(SourceMarker);
    if (at == std::string::npos) return CUDA_ERROR_INVALID_IMAGE;
    std::string log;
    const std::string so = build_module(text.substr(at + std::strlen(SourceMarker)), log);
    if (so.empty()) { fail("cuModuleLoadData", log); return CUDA_ERROR_INVALID_IMAGE; }
    void* library = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) { fail("cuModuleLoadData", dlerror()); return CUDA_ERROR_INVALID_IMAGE; }
    *module = new Module{library};
    return CUDA_SUCCESS;
}
int cuModuleUnload(void* module) {
    delete (Module*)module;   // the shared object stays loaded: unloading a library that ran fibers gains nothing
    return CUDA_SUCCESS;
}
int cuModuleGetFunction(void** function, void* module, const char* name) {
    LOCK;
    auto entry = (void (*)(dim3, unsigned, void**))dlsym(((Module*)module)->library, ("simt_entry__" + std::string(name)).c_str());
    if (!entry) return CUDA_ERROR_NOT_FOUND;
    *function = new Function{entry, name};
    return CUDA_SUCCESS;
}
int cuFuncSetAttribute(void* function, int attribute, int value) {
    if (attribute != 8) { fail("cuFuncSetAttribute", "attribute " + std::to_string(attribute) + " is not emulated"); return CUDA_ERROR_INVALID_VALUE; }
    if (value < 0 || (size_t)value > SharedBytes) return CUDA_ERROR_INVALID_VALUE;
    ((Function*)function)->maxDynamicShared = value;
    return CUDA_SUCCESS;
}
int cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned shared,
                   void*, void** args, void** extra) {
    LOCK;
    if (!function) return CUDA_ERROR_INVALID_HANDLE;
    auto& f = *(Function*)function;
    char text[240];
    if (gx == 0 || gy == 0 || gz == 0 || gx > 2147483647u || gy > 65535 || gz > 65535 || bx == 0 || by == 0 || bz == 0 ||
        (size_t)bx * by * bz > 1024 || shared > (unsigned)f.maxDynamicShared || extra) {
        std::snprintf(text, sizeof text, "grid (%u, %u, %u), block (%u, %u, %u), %u bytes of shared memory (%d allowed): CUDA refuses this launch",
                      gx, gy, gz, bx, by, bz, shared, f.maxDynamicShared);
        fail(f.name.c_str(), text);
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (by != 1 || bz != 1 || bx % 32 != 0) {
        std::snprintf(text, sizeof text, "block (%u, %u, %u): the emulator runs one-dimensional blocks of whole warps only", bx, by, bz);
        fail(f.name.c_str(), text);
        return CUDA_ERROR_LAUNCH_FAILED;
    }
    if (std::getenv("SIMT_CUDA_TRACE")) std::fprintf(stderr, "[simt-cuda] %s <<<(%u, %u, %u), %u, %u>>>\n", f.name.c_str(), gx, gy, gz, bx, shared);
    ++counts.launches;
    run_queued();
    if (!host_only()) f.entry(dim3{gx, gy, gz}, bx, args);
    return CUDA_SUCCESS;
}
// The driver's errors the emulator returns: code, name, text.
struct ErrorName {
    int code;
    const char *name, *text;
};
constexpr ErrorName Errors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
};
static const ErrorName* error_entry(int error) {
    for (const auto& e : Errors)
        if (e.code == error) return &e;
    return nullptr;
}
int cuGetErrorString(int error, const char** text) {
    const ErrorName* e = error_entry(error);
    *text = e ? e->text : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
int cuGetErrorName(int error, const char** text) {
    const ErrorName* e = error_entry(error);
    *text = e ? e->name : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

// ---- NVRTC --------------------------------------------------------------------------------------------
int nvrtcVersion(int* major, int* minor) { *major = 12; *minor = 8; return 0; }
static const int Architectures[] = {50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90};
int nvrtcGetNumSupportedArchs(int* n) { *n = (int)(sizeof Architectures / sizeof *Architectures); return 0; }
int nvrtcGetSupportedArchs(int* archs) { std::memcpy(archs, Architectures, sizeof Architectures); return 0; }
const char* nvrtcGetErrorString(int status) {
    switch (status) {
        case 0: return "NVRTC_SUCCESS";
        case 3: return "NVRTC_ERROR_INVALID_INPUT";
        case 6: return "NVRTC_ERROR_COMPILATION";
        default: return "NVRTC_ERROR (emulated)";
    }
}
int nvrtcCreateProgram(void** program, const char* source, const char* name, int headers, const char* const*, const char* const*) {
    if (headers != 0) return 3;
    *program = new Program{source, name ? name : "kernel.cu", "", ""};
    return 0;
}
int nvrtcDestroyProgram(void** program) {
    delete (Program*)*program;
    *program = nullptr;
    return 0;
}
int nvrtcCompileProgram(void* handle, int, const char* const*) {
    LOCK;
    auto& p = *(Program*)handle;
    std::vector<std::string> kernels;
    const std::string source = module_source(p.cuda, kernels);
    const std::string so = build_module(source, p.log);
    if (so.empty()) return 6;
    void* library = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) { p.log = dlerror(); return 6; }
    std::string ptx = PtxMagic;
    for (auto& k : kernels) {
        auto params = (const char* (*)())dlsym(library, ("simt_params__" + k).c_str());
        if (!params) { p.log = "no entry for " + k; return 6; }
        ptx += ".entry " + k + "(" + params() + ")\n";
    }
    p.ptx = ptx + SourceMarker + source;
    return 0;
}
int nvrtcGetPTXSize(void* handle, size_t* size) { *size = ((Program*)handle)->ptx.size() + 1; return 0; }
int nvrtcGetPTX(void* handle, char* ptx) {
    auto& p = *(Program*)handle;
    std::memcpy(ptx, p.ptx.c_str(), p.ptx.size() + 1);
    return 0;
}
int nvrtcGetProgramLogSize(void* handle, size_t* size) { *size = ((Program*)handle)->log.size() + 1; return 0; }
int nvrtcGetProgramLog(void* handle, char* log) {
    auto& p = *(Program*)handle;
    std::memcpy(log, p.log.c_str(), p.log.size() + 1);
    return 0;
}

// ---- cuBLAS -------------------------------------------------------------------------------------------
constexpr int CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_INVALID_VALUE = 7, CUBLAS_STATUS_EXECUTION_FAILED = 13,
              CUBLAS_STATUS_NOT_SUPPORTED = 15;
constexpr int R_32F = 0, R_16F = 2, R_16BF = 14;
constexpr int COMPUTE_32F = 68, COMPUTE_32F_FAST_TF32 = 77;

int cublasCreate_v2(void** handle) { *handle = (void*)0x3000; return 0; }
int cublasDestroy_v2(void*) { return 0; }
int cublasSetStream_v2(void*, void*) { return 0; }
int cublasSetMathMode(void*, int) { return 0; }
int cublasGetVersion_v2(void*, int* version) { *version = 120800; return 0; }
int cublasSetWorkspace_v2(void*, void*, size_t) { return 0; }
const char* cublasGetStatusName(int status) {
    switch (status) {
        case 0: return "CUBLAS_STATUS_SUCCESS";
        case 7: return "CUBLAS_STATUS_INVALID_VALUE";
        case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
        default: return "CUBLAS_STATUS_UNKNOWN (emulated)";
    }
}

static double load(const void* base, int type, size_t i, bool tf32) {
    if (type == R_32F) {
        float x = ((const float*)base)[i];
        if (tf32) {   // round to nearest, ties away (the tensor cores' conversion), to 10 fraction bits
            uint32_t u;
            std::memcpy(&u, &x, 4);
            if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;
            std::memcpy(&x, &u, 4);
        }
        return x;
    }
    const unsigned short h = ((const unsigned short*)base)[i];
    if (type == R_16BF) {
        uint32_t u = (uint32_t)h << 16;
        float x;
        std::memcpy(&x, &u, 4);
        return x;
    }
    _Float16 x;
    std::memcpy(&x, &h, 2);
    return (double)x;
}

static size_t type_bytes(int type) { return type == R_32F ? 4 : 2; }

// A float32 result stored as cuBLAS stores it in C's type: bf16 or fp16 rounded to nearest even (NaN kept a NaN).
static void store(void* base, int type, size_t i, float x) {
    if (type == R_32F) { ((float*)base)[i] = x; return; }
    unsigned short h;
    if (type == R_16F) {
        _Float16 f = (_Float16)x;
        std::memcpy(&h, &f, 2);
    } else {
        uint32_t u;
        std::memcpy(&u, &x, 4);
        h = (u & 0x7fffffffu) > 0x7f800000u ? (unsigned short)((u >> 16) | 0x40) : (unsigned short)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
    }
    ((unsigned short*)base)[i] = h;
}

// C[b] = alpha op(A[b]) op(B[b]) + beta C[b], column-major; op(A) is m x k, op(B) k x n. C is not read when beta = 0.
// C is float32, or the 16-bit type of A and B (the sums rounded to it as they are stored).
int cublasGemmStridedBatchedEx(void*, int transa, int transb, int m, int n, int k, const void* alphaPointer,
                               const void* a, int aType, int lda, long long strideA, const void* b, int bType, int ldb, long long strideB,
                               const void* betaPointer, void* c, int cType, int ldc, long long strideC, int batch, int computeType, int) {
    LOCK;
    run_queued();
    if (m < 0 || n < 0 || k < 0 || batch < 0 || ldc < std::max(1, m) || lda < std::max(1, transa == 0 ? m : k) ||
        ldb < std::max(1, transb == 0 ? k : n) || transa < 0 || transa > 2 || transb < 0 || transb > 2) {
        char text[200];
        std::snprintf(text, sizeof text, "m %d n %d k %d lda %d ldb %d ldc %d op %d/%d batch %d", m, n, k, lda, ldb, ldc, transa, transb, batch);
        fail("cublasGemmStridedBatchedEx", text);
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (aType != bType || (aType != R_32F && aType != R_16F && aType != R_16BF) || (cType != R_32F && cType != aType) ||
        (computeType != COMPUTE_32F && computeType != COMPUTE_32F_FAST_TF32)) {
        fail("cublasGemmStridedBatchedEx", "types A " + std::to_string(aType) + ", B " + std::to_string(bType) + ", C " + std::to_string(cType) +
             ", compute " + std::to_string(computeType) + " are not emulated");
        return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    ++counts.gemms;
    if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
    const float alpha = *(const float*)alphaPointer, beta = *(const float*)betaPointer;
    const bool tf32 = computeType == COMPUTE_32F_FAST_TF32;
    // Every matrix read or written lies inside one allocation (the extent from its first to its last element).
    auto extent = [](long long rows, long long cols, long long ld) { return (size_t)((cols - 1) * ld + rows); };
    const size_t ea = extent(transa == 0 ? m : k, transa == 0 ? k : m, lda), eb = extent(transb == 0 ? k : n, transb == 0 ? n : k, ldb);
    for (int i = 0; i < batch; ++i) {
        if ((k > 0 && !check_range("cublasGemmStridedBatchedEx (A)", (uintptr_t)a + i * strideA * type_bytes(aType), ea * type_bytes(aType))) ||
            (k > 0 && !check_range("cublasGemmStridedBatchedEx (B)", (uintptr_t)b + i * strideB * type_bytes(bType), eb * type_bytes(bType))) ||
            !check_range("cublasGemmStridedBatchedEx (C)", (uintptr_t)c + i * strideC * type_bytes(cType), extent(m, n, ldc) * type_bytes(cType)))
            return CUBLAS_STATUS_EXECUTION_FAILED;
    }
    if (host_only()) return CUBLAS_STATUS_SUCCESS;
    std::vector<double> column((size_t)m);
    for (int i = 0; i < batch; ++i) {
        const char* A = (const char*)a + i * strideA * (long long)type_bytes(aType);
        const char* B = (const char*)b + i * strideB * (long long)type_bytes(bType);
        char* C = (char*)c + i * strideC * (long long)type_bytes(cType);
        for (int j = 0; j < n; ++j) {
            std::fill(column.begin(), column.end(), 0.0);
            for (int l = 0; l < k; ++l) {
                const double bl = load(B, bType, transb == 0 ? (size_t)l + (size_t)j * ldb : (size_t)j + (size_t)l * ldb, tf32);
                for (int r = 0; r < m; ++r)
                    column[r] += load(A, aType, transa == 0 ? (size_t)r + (size_t)l * lda : (size_t)l + (size_t)r * lda, tf32) * bl;
            }
            for (int r = 0; r < m; ++r) {
                const size_t at = (size_t)r + (size_t)j * ldc;
                store(C, cType, at, beta == 0 ? (float)(alpha * column[r]) : (float)(alpha * column[r] + (double)beta * load(C, cType, at, false)));
            }
        }
    }
    return CUBLAS_STATUS_SUCCESS;
}

}   // extern "C"
