#!/usr/bin/env bash
# Run on the GPU device machine, in the repository root, in one go. Writes under $OUT (default ./gpu-check-out):
#   gpu-check.log   everything below, in order          nvidia-smi.txt  the card, driver, clocks
#   cuda-tests.txt  xunit CUDA + ILGPU tests (only where the .NET SDK is installed)
#   cuda-check.txt  every op, CUDA vs SIMD / ILGPU-CPU, incl. ResNet18/ElemNet layer shapes
#   ilgpu-bench.md  BenchmarkDotNet: GEMM 4096x512x576, 65536x64x576; ResNet18 convs at batch 4096 (GFLOP/s)
#   peer-cuda.txt / peer-cuda.json   the PyTorch peer on cuda, 4096 candidates x $PEER_STEPS steps
# Without .NET there, run tools/gpu-prepare.sh here first and carry .gpu-payload (see that script).
# GPU_CHECK_USE_PAYLOAD=1 uses the carried runtime even where a dotnet exists.
# Exit status: 0 when every step passed, 1 otherwise (each step still runs).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
PEER_STEPS=${PEER_STEPS:-200}
payload=.gpu-payload
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu-check.log") 2>&1
step() { echo; echo "== $(date -u +%H:%M:%S) $*"; }
status=0

step "machine"
uname -a; nproc; free -g | head -2
nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 && head -15 "$OUT/nvidia-smi.txt" || { echo "nvidia-smi failed"; status=1; }

step ".NET"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if command -v dotnet >/dev/null && [ -z "${GPU_CHECK_USE_PAYLOAD:-}" ]; then
    DOTNET=$(command -v dotnet)
elif [ -f "$payload/dotnet-runtime.tar.xz" ]; then
    export DOTNET_ROOT=/tmp/kiago-dotnet
    mkdir -p "$DOTNET_ROOT" && tar -C "$DOTNET_ROOT" -xJf "$payload/dotnet-runtime.tar.xz"
    DOTNET=$DOTNET_ROOT/dotnet
else
    echo "no dotnet on this machine and no $payload/dotnet-runtime.tar.xz: run tools/gpu-prepare.sh and carry $payload"
    exit 2
fi
"$DOTNET" --list-runtimes; "$DOTNET" --list-sdks

if "$DOTNET" --list-sdks 2>/dev/null | grep -q .; then
    step "xunit: ILGPU tests (CUDA ones run here instead of skipping)"
    "$DOTNET" test tests/Kiago.Tests -c Release --filter "FullyQualifiedName~Kiago.Tests.Kernels.Ilgpu" \
        --logger "console;verbosity=normal" >"$OUT/cuda-tests.txt" 2>&1 || status=1
    tail -5 "$OUT/cuda-tests.txt"
    step "publishing the benchmarks"
    "$DOTNET" publish bench/Kiago.Bench -c Release -o /tmp/kiago-bench -v q || status=1
    BENCH=/tmp/kiago-bench/Kiago.Bench.dll
else
    echo "runtime only (no SDK): xunit cannot run here; cuda-check below runs the same parity checks"
    mkdir -p /tmp/kiago-payload && tar -C /tmp/kiago-payload -xJf "$payload/bench.tar.xz" || status=1
    BENCH=/tmp/kiago-payload/bench/Kiago.Bench.dll
fi

step "cuda-check: every op, CUDA vs CPU backends"
"$DOTNET" "$BENCH" cuda-check --resnet >"$OUT/cuda-check.txt" 2>&1 || status=1
grep -E "passed in|cuda-check:|FAIL" "$OUT/cuda-check.txt"

step "ILGPU benchmarks on CUDA"
rm -rf /tmp/kiago-bdn
KIAGO_BENCH_DEVICE=cuda "$DOTNET" "$BENCH" --filter '*Ilgpu*' --artifacts /tmp/kiago-bdn >/tmp/kiago-bdn.log 2>&1 || status=1
cat /tmp/kiago-bdn/results/*-github.md >"$OUT/ilgpu-bench.md" 2>/dev/null || { tail -40 /tmp/kiago-bdn.log; status=1; }
cat "$OUT/ilgpu-bench.md"

step "PyTorch peer on cuda (4096 candidates x $PEER_STEPS steps, strict fp32)"
peer=$payload/kiago_torch.py
[ -f "$peer" ] || peer=../shared/peer/kiago_torch.py
if [ -f "$peer" ]; then
    PYTHONUNBUFFERED=1 python3 "$peer" --device cuda --candidates 4096 --steps "$PEER_STEPS" \
        --json "$OUT/peer-cuda.json" >"$OUT/peer-cuda.txt" 2>&1 || status=1
    tail -3 "$OUT/peer-cuda.txt"
else
    echo "peer script not found (carry $payload from tools/gpu-prepare.sh)"; status=1
fi

step "done, status $status"
exit $status
