#!/usr/bin/env bash
# Runs one emulator harness by hand, as SimtEmulationTests.cs does: tests/LlmCourse.Tensors.Tests/Cuda/Simt/run.sh attention
# (the kernel files copied with __shared__ rewritten for the emulator: static shared memory becomes static).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernels=$(cd "$here/../../../../src/LlmCourse.Tensors/Backends/Cuda/Kernels" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/kernels"
for f in "$kernels"/*; do sed -e 's/extern __shared__/extern/g' -e 's/__shared__/static/g' "$f" > "$work/kernels/$(basename "$f")"; done
g++ -std=c++20 -O2 -Wall -Wno-unknown-pragmas -Wno-unused-function -Wno-sign-compare -I"$work/kernels" "$here/${1:?harness name, e.g. attention}.cpp" -o "$work/harness"
"$work/harness" "${@:2}"
