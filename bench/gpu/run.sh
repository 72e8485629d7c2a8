#!/usr/bin/env bash
# The GPU check of the CUDA backend, in two halves (bench/gpu/README.md):
#   bench/gpu/run.sh build   here, with the .NET SDK: a self-contained bundle (tests + benchmarks, no
#                            .NET needed where it runs) in bench/gpu/bundle.tar.gz, checked under 64 MiB
#   bench/gpu/run.sh emulated  here, no GPU: the same bundle on the emulated GPU (tests/LlmCourse.Tensors.Tests/
#                            Cuda/Simt/simt_cuda.cpp, g++): its Category=Cuda tests and every GPU benchmark at toy
#                            sizes, so the bundle, this script and the benchmarks' code run before GPU time is spent
#   bench/gpu/run.sh lesson05  on the GPU machine: lesson 05's run (gpu-char-run: nanoGPT's shakespeare_char, 5,000
#                            steps, bf16) against PyTorch's, and a table of validation losses, minutes and tokens/s
#   bench/gpu/run.sh notebooks-build  here: the course's runner (llmcourse, self-contained), the library it runs the
#                            lessons against and the offline data, in bench/gpu/notebooks.tar.gz (under 64 MiB)
#   bench/gpu/run.sh notebooks [--full] [NOTEBOOK...]  on the GPU machine: the lessons (default: every one, quick
#                            mode) through llmcourse run, on the GPU where a lesson uses one; executed notebooks in $OUT
#   bench/gpu/run.sh run     on the GPU machine, from the repository root: the Category=Cuda and
#                            CudaCompile tests, then gpu-step and gpu-step-gpt2 against PyTorch (each with
#                            a per-kernel profile of 3 more steps), gpu-attention (the fused attention
#                            alone against PyTorch's flash attention), and a table
# Output goes to stdout and, when $OUT is set (the device tool), to $OUT/gpu-run.log and $OUT/cuda-tests.xml.
set -uo pipefail
cd "$(dirname "$0")/../.."
bundle=bench/gpu/bundle
archive=bench/gpu/bundle.tar.gz
limit=$((64 * 1024 * 1024))

build() {
  set -e
  rm -rf "$bundle" "$archive"
  mkdir -p "$bundle"
  # Untrimmed: xunit finds the tests by reflection. Both apps share one folder (the same runtime files).
  local common=(-c Release -r linux-x64 --self-contained true -p:PublishTrimmed=false -p:PublishSingleFile=false
                -p:InvariantGlobalization=true -p:GenerateDocumentationFile=false -nodeReuse:false)
  dotnet publish tests/LlmCourse.Tensors.Tests "${common[@]}" -o "$bundle"
  dotnet publish tests/LlmCourse.Tests "${common[@]}" -o "$bundle"
  dotnet publish bench/LlmCourse.Bench "${common[@]}" -o "$bundle"
  rm -f "$bundle"/*.pdb
  # The GPU machine has no network: TinyShakespeare travels with the bundle (gpu-char-run, lesson05 below).
  local data="${LLMCOURSE_DATA:-$(cd .. && pwd)/shared/datasets}"
  [ -f "$data/tinyshakespeare.txt" ] || { echo "error: $data/tinyshakespeare.txt not found: set LLMCOURSE_DATA to the offline datasets"; exit 1; }
  mkdir -p "$bundle/data"
  cp "$data/tinyshakespeare.txt" "$bundle/data/"
  tar -C bench/gpu -czf "$archive" bundle
  local size unpacked
  size=$(stat -c %s "$archive")
  unpacked=$(du -sm "$bundle" | cut -f1)
  echo "bundle: ${unpacked} MiB unpacked, $((size / 1024 / 1024)) MiB compressed ($size bytes; the device tool carries at most 64 MiB)"
  if [ "$size" -ge "$limit" ]; then echo "error: $archive is over 64 MiB"; exit 1; fi
}

run() {
  local log=/dev/null
  [ -n "${OUT:-}" ] && log="$OUT/gpu-run.log"
  # The device tool stops a command at 600 s: every phase below is cut to what is left of GPU_RUN_SECONDS
  # (default 560), so a phase that hangs costs its own results only and the table still prints.
  deadline=$((SECONDS + ${GPU_RUN_SECONDS:-560}))
  {
    [ -x "$bundle/LlmCourse.Tensors.Tests" ] || tar -C bench/gpu -xzf "$archive"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv 2>&1 || echo "nvidia-smi: not available"
    echo "python3: $(command -v python3), $(python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1)"
    setup

    echo "== tests: Category=Cuda and CudaCompile"
    local xml=()
    [ -n "${OUT:-}" ] && xml=(-xml "$OUT/cuda-tests.xml")
    # -longRunning 30 names any test still running after 30 s: a hang shows which test it is.
    phase 240 60 "Category=Cuda tests" "$bundle/LlmCourse.Tensors.Tests" -nocolor -longRunning 30 -trait "Category=Cuda" -trait "Category=CudaCompile" "${xml[@]}"
    # The course's GPT and trainer on the GPU (lesson 05's path).
    [ -n "${OUT:-}" ] && xml=(-xml "$OUT/gpt-tests.xml")
    phase 90 30 "the GPT's Category=Cuda tests" "$bundle/LlmCourse.Tests" -nocolor -longRunning 30 -trait "Category=Cuda" "${xml[@]}"

    for name in gpu-step gpu-step-gpt2; do
      echo "== benchmark $name"
      phase 240 60 "$name" "$bundle/LlmCourse.Bench" "$name" --profile
    done
    # Attention alone: the tensor-core kernels (bf16) against PyTorch's flash attention, then the float32 kernels.
    echo "== benchmark gpu-attention"
    phase 90 30 gpu-attention "$bundle/LlmCourse.Bench" gpu-attention
    phase 60 20 "gpu-attention --fp32" "$bundle/LlmCourse.Bench" gpu-attention --fp32 --skip-anchor --steps 5
  } 2>&1 | tee "$log" | tee /tmp/gpu-run.log
  table /tmp/gpu-run.log
}

# phase LIMIT MINIMUM NAME COMMAND...: runs COMMAND for at most LIMIT seconds or what is left before $deadline,
# whichever is less; skips it, saying so, when less than MINIMUM seconds are left. Its failure is printed, not fatal.
phase() {
  local limit=$1 minimum=$2 name=$3 left=$((deadline - SECONDS))
  shift 3
  if [ "$left" -lt "$minimum" ]; then echo "$name: skipped, ${left} s left of the run's ${GPU_RUN_SECONDS:-560}"; return; fi
  [ "$left" -lt "$limit" ] && limit=$left
  local start=$SECONDS
  timeout "$limit" "$@"
  local code=$?
  echo "$name: exit code $code after $((SECONDS - start)) s$([ "$code" = 124 ] && echo " (timed out at $limit s)")"
}

# The lessons on the GPU machine, which has no .NET: the runner published self-contained, the library's build output
# where the notebooks' #r lines look for it (artifacts/bin/.../release), and the offline datasets (TinyShakespeare,
# GPT-2's ranks), packed into notebooks.tar.gz.
notebooks_archive=bench/gpu/notebooks.tar.gz
notebooks_build() {
  set -e
  local stage=bench/gpu/notebooks
  rm -rf "$stage" "$notebooks_archive"
  mkdir -p "$stage/cli" "$stage/data"
  dotnet build src/LlmCourse -c Release -nodeReuse:false
  dotnet publish src/LlmCourse.Cli -c Release -r linux-x64 --self-contained true -p:PublishTrimmed=false -p:PublishSingleFile=false \
    -p:InvariantGlobalization=true -p:GenerateDocumentationFile=false -nodeReuse:false -o "$stage/cli"
  rm -f "$stage"/cli/*.pdb
  local data="${LLMCOURSE_DATA:-$(cd .. && pwd)/shared/datasets}"
  cp "$data"/tinyshakespeare.txt "$data"/r50k_base.tiktoken "$stage/data/"
  tar -czf "$notebooks_archive" -C "$stage" cli data -C ../../.. artifacts/bin/LlmCourse/release artifacts/bin/LlmCourse.Tensors/release
  rm -rf "$stage"
  local size
  size=$(stat -c %s "$notebooks_archive")
  echo "notebooks bundle: $((size / 1024 / 1024)) MiB compressed ($size bytes; the device tool carries at most 64 MiB)"
  if [ "$size" -ge "$limit" ]; then echo "error: $notebooks_archive is over 64 MiB"; exit 1; fi
}

# notebooks [--full] [NOTEBOOK...]: the lessons through the course's runner, quick mode unless --full; the executed
# notebooks (.ipynb and .html, outputs and figures included) go to $OUT/notebooks (or bench/gpu/out/notebooks).
notebooks() {
  local mode=--quick files=()
  for a in "$@"; do if [ "$a" = --full ]; then mode=""; else files+=("$a"); fi; done
  [ ${#files[@]} -eq 0 ] && files=(notebooks)
  local unpacked=bench/gpu/notebooks-run
  rm -rf "$unpacked" && mkdir -p "$unpacked"
  tar -C "$unpacked" -xzf "$notebooks_archive" cli data
  tar -xzf "$notebooks_archive" artifacts   # where the notebooks' #r lines find the library
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || echo "nvidia-smi: not available"
  export LLMCOURSE_CACHE="${LLMCOURSE_CACHE:-/tmp/llmcourse-cache}" LLMCOURSE_DATA="$(pwd)/$unpacked/data" \
         LLMCOURSE_REQUIRE_DATA=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_gcServer=0
  local out="${OUT:-bench/gpu/out}/notebooks"
  mkdir -p "$out"
  "$unpacked/cli/LlmCourse.Cli" doctor 2>&1 | tail -25
  # shellcheck disable=SC2086
  timeout "${NOTEBOOKS_SECONDS:-560}" "$unpacked/cli/LlmCourse.Cli" run "${files[@]}" --out "$out" $mode 2>&1 | tee "$out/run.log"
}

# What every mode on the GPU machine needs: caches in /tmp, PyTorch's python3, the bundle's copy of the data.
setup() {
  export LLMCOURSE_CACHE="${LLMCOURSE_CACHE:-/tmp/llmcourse-cache}" LLMCOURSE_PYTHON="${LLMCOURSE_PYTHON:-python3}"
  export LLMCOURSE_DATA="$(pwd)/$bundle/data" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_gcServer=0
}

# Lesson 05's figures: nanoGPT's shakespeare_char run on the GPU, 5,000 steps, ours and PyTorch's (eager), then a
# table. About 4 minutes on an H200 (PyTorch's run about 1; ours unmeasured); one call of the device tool.
lesson05() {
  local log=/dev/null
  [ -n "${OUT:-}" ] && log="$OUT/lesson05.log"
  {
    [ -x "$bundle/LlmCourse.Bench" ] || tar -C bench/gpu -xzf "$archive"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv 2>&1 || echo "nvidia-smi: not available"
    setup
    echo "== benchmark gpu-char-run"
    timeout 540 "$bundle/LlmCourse.Bench" gpu-char-run "$@" || echo "gpu-char-run: failed or timed out (exit $?)"
  } 2>&1 | tee "$log" | tee /tmp/lesson05.log
  lesson05_table /tmp/lesson05.log
}

# Lesson 05's table, from the lines gpu-char-run prints for ours (`ours: ...`) and echoes from its anchor (`[anchor] ...`).
lesson05_table() {
  echo
  echo "| run | val loss (whole text) | est. val loss | est. train loss | training min | tokens/s |"
  echo "|---|---|---|---|---|---|"
  awk '
    { side = /^ours: / ? "ours" : /^ *\[anchor\] / ? "anchor" : "" }
    side != "" && / losses: validation / {
      for (i = 1; i < NF; i++) {
        if ($i == "losses:") whole[side] = $(i + 2)
        if ($i == "estimated") est[side] = $(i + 2)
        if ($i == "train") tr[side] = $(i + 1)
      }
    }
    side != "" && / training [0-9.]+ s \(/ { for (i = 1; i <= NF; i++) if ($i == "training") { sec[side] = $(i + 1); break } }
    /^ours: [0-9]+ tokens\/s/ { rate["ours"] = $2 }
    /^pytorch (eager|compile): [0-9]+ tokens\/s/ { rate["anchor"] = $3; name["anchor"] = "PyTorch " $2; sub(/:$/, "", name["anchor"]) }
    END {
      name["ours"] = "ours"
      for (k = 1; k <= 2; k++) {
        s = k == 1 ? "ours" : "anchor"
        if (!(s in whole)) continue
        printf "| %s | %s | %s | %s | %s | %s |\n", name[s] ? name[s] : "PyTorch", whole[s], est[s], tr[s],
          sec[s] != "" ? sprintf("%.2f", sec[s] / 60) : "?", rate[s] ? rate[s] : "?"
      }
    }' "$1"
  grep -E "^gpu-char-run: ratio" "$1" || true
}

# The summary: one row per benchmark, from the lines the benchmarks print.
table() {
  echo
  echo "| benchmark | ours tok/s | ours ms/step | ours MFU | PyTorch eager tok/s | PyTorch compile tok/s | ratio vs eager | ratio vs compile |"
  echo "|---|---|---|---|---|---|---|---|"
  awk '
    /^== benchmark / { name = $3 }
    /^ours: [0-9]+ tokens\/s/ { ours[name] = $2; ms[name] = $4; mfu[name] = $7 }
    /^pytorch eager: / { eager[name] = $3 }
    /^pytorch compile: / { comp[name] = $3 }
    END {
      for (n in ours) {
        re = eager[n] ? sprintf("%.3f", ours[n] / eager[n]) : "-"
        rc = comp[n] ? sprintf("%.3f", ours[n] / comp[n]) : "-"
        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", n, ours[n], ms[n], mfu[n], eager[n] ? eager[n] : "-", comp[n] ? comp[n] : "-", re, rc
      }
    }' "$1"
  echo
  grep -E "^(ours|pytorch): \[" "$1" || true
  grep -E "Total: [0-9]+, Errors" "$1" | tail -1 || true
}

# The emulated GPU's libraries, built from simt_cuda.cpp with g++ under the sonames the engine loads and found first
# through LD_LIBRARY_PATH (EmulatedGpu.cs does the same for the tests), and the bundle unpacked. Sets $lib (removed
# when the script exits).
emulator() {
  [ -x "$bundle/LlmCourse.Tensors.Tests" ] || tar -C bench/gpu -xzf "$archive" || { echo "no bundle: run bench/gpu/run.sh build first"; return 1; }
  local simt=tests/LlmCourse.Tensors.Tests/Cuda/Simt
  lib=$(mktemp -d)
  trap 'rm -rf "$lib"' EXIT
  g++ -std=c++20 -O2 -shared -fPIC -DSIMT_DIR="\"$(pwd)/$simt\"" "$simt/simt_cuda.cpp" -o "$lib/libsimtcuda.so" || return 1
  for soname in libcuda.so.1 libnvrtc.so.13 libcublas.so.13 libcublasLt.so.13; do ln -s libsimtcuda.so "$lib/$soname"; done
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" LLMCOURSE_CACHE="$lib/cache" LLMCOURSE_DATA="$(pwd)/$bundle/data"
}

# The bundle on the emulated GPU: the CUDA libraries built from simt_cuda.cpp under the sonames the engine loads,
# found first through LD_LIBRARY_PATH (EmulatedGpu.cs does the same for the tests). Toy sizes: the emulator runs
# each thread as a fiber, so the benchmarks' figures mean nothing here; what is checked is that they run.
emulated() {
  emulator || exit 1
  local failed=0
  echo "== tests: Category=Cuda on the emulated GPU (without the two marked Emulator=TooSlow)"
  timeout 600 "$bundle/LlmCourse.Tensors.Tests" -nocolor -parallel none -trait "Category=Cuda" -trait- "Emulator=TooSlow" || failed=1
  timeout 300 "$bundle/LlmCourse.Tests" -nocolor -parallel none -trait "Category=Cuda" || failed=1
  for args in "gpu-step --block 16 --batch 2 --warmup 1 --steps 1 --skip-anchor --profile" \
              "gpu-step-gpt2 --block 16 --batch 1 --warmup 1 --steps 1 --skip-anchor" \
              "gpu-attention --shape 1,2,128,64 --warmup 1 --steps 1 --skip-anchor" \
              "gpu-attention --shape 1,2,128,64 --warmup 1 --steps 1 --skip-anchor --fp32" \
              "gpu-char-run --steps 2 --block 32 --batch 2 --layers 1 --embd 48 --eval-batches 2 --skip-anchor"; do
    echo "== benchmark on the emulated GPU: $args"
    # shellcheck disable=SC2086
    timeout 300 "$bundle/LlmCourse.Bench" $args || { echo "failed (exit $?): $args"; failed=1; }
  done
  [ "$failed" = 0 ] && echo "emulated: every test and benchmark ran" || { echo "emulated: something failed (above)"; exit 1; }
}

# The host's side of a training step, with no GPU: the emulated GPU with SIMT_CUDA_HOST_ONLY=1 checks every call but
# runs no kernel or GEMM, so what gpu-step times is the engine's own work per step (autograd, the caching allocator,
# launch arguments, the host waits) at the benchmarks' full sizes. A real GPU step cannot take less than this plus
# the driver's launch cost (a few µs per launch); PyTorch eager takes 9.0 ms and 42.8 ms on the H200. Two runs of
# each benchmark that differ only in their step count give the launches, GEMMs and host waits of one step.
host() {
  emulator || exit 1
  export SIMT_CUDA_HOST_ONLY=1 SIMT_CUDA_COUNT=1 SIMT_CUDA_MEMORY_MB=143771   # the H200's memory
  local name short=10 long=60 log=/tmp/gpu-host.log
  : > "$log"
  for name in gpu-step gpu-step-gpt2; do
    echo "== host side of $name ($short and $long steps after 10 warm-up steps)" | tee -a "$log"
    for steps in $short $long; do
      "$bundle/LlmCourse.Bench" "$name" --skip-anchor --warmup 10 --steps "$steps" 2>&1 | grep -E "^ours: [0-9]+ tokens|counts:" |
        sed "s/^/$name $steps: /" | tee -a "$log"
    done
  done
  echo
  echo "| benchmark | host ms/step | kernel launches/step | GEMM calls/step | host waits/step | PyTorch eager on the H200, ms/step |"
  echo "|---|---|---|---|---|---|"
  awk -v short=$short -v long=$long '
    / counts: / { n = $1; s = $2 + 0; l[n, s] = $5; g[n, s] = $8; w[n, s] = $16 }
    /: ours: / && $2 + 0 == long { ms[$1] = $6 }
    END {
      split("gpu-step gpu-step-gpt2", names, " "); torch["gpu-step"] = "9.0"; torch["gpu-step-gpt2"] = "42.8"
      for (i = 1; i <= 2; i++) {
        n = names[i]; d = long - short
        printf "| %s | %s | %.0f | %.0f | %.0f | %s |\n", n, ms[n], (l[n, long] - l[n, short]) / d, (g[n, long] - g[n, short]) / d,
          (w[n, long] - w[n, short]) / d, torch[n]
      }
    }' "$log"
}

case "${1:-}" in
  build) build ;;
  run) run ;;
  emulated) emulated ;;
  host) host ;;
  lesson05) shift; lesson05 "$@" ;;
  notebooks-build) notebooks_build ;;
  notebooks) shift; notebooks "$@" ;;
  table) table "${2:-/tmp/gpu-run.log}" ;;
  lesson05-table) lesson05_table "${2:-/tmp/lesson05.log}" ;;
  *) echo "usage: bench/gpu/run.sh build|emulated|host|run|lesson05 [gpu-char-run options]|notebooks-build|notebooks [--full] [notebook...]|table [log]|lesson05-table [log]"; exit 2 ;;
esac
