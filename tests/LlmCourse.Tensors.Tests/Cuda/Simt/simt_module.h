// What the emulated NVRTC (simt_cuda.cpp) appends to a kernel file it compiles with g++: for each
// extern "C" __global__ kernel, SIMT_ENTRY(name) exports
//   simt_entry__name(grid, threads, args)  the launch: the kernel's parameters read from cuLaunchKernel's
//                                          array of pointers (one per parameter, as the driver API takes them)
//   simt_params__name()                    its parameter list as PTX writes it (".param .u64 p0, ..."), so the
//                                          backend's launch-argument check (CudaKernelSignature) runs here too
#pragma once
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

// One parameter's bytes copied out of the caller's array (the pointer need not be aligned for the type).
template <class T>
T simt_arg(void* p) {
    T value;
    std::memcpy(static_cast<void*>(&value), p, sizeof(T));
    return value;
}

template <class... A, size_t... I>
void simt_invoke(const char* name, void (*kernel)(A...), dim3 grid, unsigned threads, void** args, std::index_sequence<I...>) {
    // Copied before the launch: the kernel reads them from every thread, the caller's array may not outlive the call.
    std::tuple<std::remove_cvref_t<A>...> values{simt_arg<std::remove_cvref_t<A>>(args[I])...};
    simt_launch(name, grid, threads, [&] { std::apply(kernel, values); });
}

// The PTX type NVRTC gives a parameter: pointers .u64, integers .u<bits>, floats .f<bits>, structs by value
// an aligned byte array.
template <class T>
void simt_param(std::string& out, size_t i) {
    using U = std::remove_cvref_t<T>;
    if (i) out += ", ";
    out += ".param ";
    if constexpr (std::is_pointer_v<U>) out += ".u64 p" + std::to_string(i);
    else if constexpr (std::is_floating_point_v<U>) out += ".f" + std::to_string(sizeof(U) * 8) + " p" + std::to_string(i);
    else if constexpr (std::is_integral_v<U> || std::is_enum_v<U>) out += ".u" + std::to_string(sizeof(U) * 8) + " p" + std::to_string(i);
    else out += ".align " + std::to_string(alignof(U)) + " .b8 p" + std::to_string(i) + "[" + std::to_string(sizeof(U)) + "]";
}

template <class... A, size_t... I>
std::string simt_params(void (*)(A...), std::index_sequence<I...>) {
    std::string out;
    (simt_param<A>(out, I), ...);
    return out;
}

#define SIMT_ENTRY(name)                                                                                      \
    extern "C" void simt_entry__##name(dim3 grid, unsigned threads, void** args) {                            \
        simt_invoke(#name, name, grid, threads, args, std::make_index_sequence<simt_arity(name)>{});          \
    }                                                                                                         \
    extern "C" const char* simt_params__##name() {                                                            \
        static const std::string text = simt_params(name, std::make_index_sequence<simt_arity(name)>{});      \
        return text.c_str();                                                                                  \
    }

template <class... A>
constexpr size_t simt_arity(void (*)(A...)) { return sizeof...(A); }
