"""What every CPU anchor imports before numpy or torch: OpenBLAS at full strength, and a line saying
which kernel it ran.

This machine's environment sets OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE (older OpenBLAS builds
misbehave on some processors). Inherited by an anchor, they make numpy's and PyTorch's OpenBLAS run its
AVX2 Haswell kernel instead of its native one (AVX-512 on these machines), about half as fast, so every
ratio against that anchor would flatter us. OpenBLAS reads them once, when the library loads, so they
are removed here, in the anchor's own process only (tests and CI keep them). The benchmark's runner
(bench/LlmCourse.Bench/Benchmark.cs) also removes them from the anchor's environment.
"""
import os

for _name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_name, None)


def describe():
    """One line naming the BLAS the anchor used: library, version, kernel (threadpoolctl's 'architecture')."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (install python3-threadpoolctl to see which OpenBLAS kernel ran)"
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not blas:
        return "BLAS: none loaded"
    return "; ".join(
        f"BLAS: {i.get('internal_api')} {i.get('version')} kernel {i.get('architecture', '?')}, "
        f"{i.get('num_threads')} threads" for i in blas)
