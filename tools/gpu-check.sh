#!/usr/bin/env bash
# One device session in one call (run tools/gpu-prepare.sh here first; carry .gpu-payload). In the repository root:
#   bash tools/gpu-check.sh
# Phase 1, benchmarks and checks (until GPU_BENCH_S seconds after the start), each step capped:
#   check-device.txt   every engine op, CUDA vs SIMD CPU and vs ILGPU-CPU, incl. ResNet18/ElemNet layer shapes
#   whole-step.txt     `kiago optimise --benchmark` on cuda, CANDIDATES x STEPS (and x 1000 when that fits), GPU memory
#   peer.txt/json      ../shared/peer/kiago_torch.py on the same card, CANDIDATES x PEER_STEPS, strict fp32
#   e2e.txt            a small `kiago optimise` on the shipped weights on cuda and on the CPU, outputs compared
#   bench.txt          `kiago bench --device cuda` (ResNet18 / ElemNet at batch 4096)
#   superdiff.txt      `kiago baseline superdiff` on cuda, CANDIDATES samples x 1000 DDPM steps (ILVR 4), sampling seconds
# Phase 2, predictor training (training/sweep.py) until GPU_DEADLINE_S, then packing:
#   results.tar.xz     logs, the sweep's selection.json, cards, test-split CSVs
#   weights.tar.xz.part-*   the chosen fp32 state dicts (split in 15 MiB parts: `cat parts | tar -xJ`)
# GPU_CHECK_DEVICE=cpu runs the same flow on a CPU-only machine with small sizes (a dry run of this script).
# TRAIN=0 skips phase 2 (a verification call); COMPARE_SIMPLE=1 also times the whole step with KIAGO_ILGPU_GEMM=simple.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-check-out}
WORK=${GPU_WORK:-/tmp/kiago-gpu}
DEV=${GPU_CHECK_DEVICE:-cuda}
PY=${PYTHON:-python3}
BENCH_S=${GPU_BENCH_S:-200}
DEADLINE_S=${GPU_DEADLINE_S:-540}
TRAIN_MAX_MIN=${TRAIN_MAX_MIN:-6}
if [ "$DEV" = cuda ]; then CAND=${CANDIDATES:-4096} STEPS=${STEPS:-100} PEER_STEPS=${PEER_STEPS:-200} SD_STEPS=${SD_STEPS:-1000}
else CAND=${CANDIDATES:-64} STEPS=${STEPS:-4} PEER_STEPS=${PEER_STEPS:-4} SD_STEPS=${SD_STEPS:-20}; fi
T0=$(date +%s)
mkdir -p "$OUT" "$WORK"
exec > >(tee -a "$OUT/gpu-check.log") 2>&1
LIMIT_S=$BENCH_S # cap() hands out phase-1 time only
source tools/gpu-lib.sh
status=0
fail() { status=1; echo "!! step failed: $*"; }

step "machine"
uname -a; nproc; free -g | head -2
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv

step ".NET"
unpack_payload
mkdir -p "$WORK/data" && tar -C "$WORK/data" -xJf "$payload/data.tar.xz"
"$DOTNET" --list-runtimes

step "check-device --resnet ($DEV)"
if [ "$DEV" = cuda ]; then
    timeout "$(cap 110)" "${KIAGO[@]}" check-device --resnet >"$WORK/check-device.txt" 2>&1 || fail check-device
else
    timeout "$(cap 110)" "${KIAGO[@]}" check-device --device ilgpu-cpu >"$WORK/check-device.txt" 2>&1 || fail check-device
fi
grep -E "device:|passed in|check-device|FAIL|error" "$WORK/check-device.txt"

step "whole step: kiago optimise --benchmark, $CAND x $STEPS on $DEV"
bench_args=(optimise --benchmark --base YBa2Cu3O7 --max-atoms 25 --tc-model random --ef-model random --device "$DEV" --out "$WORK/bench-run")
smi_pid=
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$WORK/smi-memory.txt" 2>/dev/null &
    smi_pid=$!
fi
timeout "$(cap 80)" "${KIAGO[@]}" "${bench_args[@]}" --candidates "$CAND" --steps "$STEPS" 2>&1 | tee "$WORK/whole-step.txt" || fail whole-step
secs=$(grep -o 'seconds=[0-9.]*' "$WORK/whole-step.txt" | head -1 | cut -d= -f2)
if [ -n "$secs" ] && [ "$DEV" = cuda ] && awk -v s="$secs" -v n="$STEPS" 'BEGIN { exit !(s * 1000 / n < 45) }'; then
    echo "-- $STEPS steps took $secs s: the full 1000 steps fit, running them"
    timeout "$(cap 60)" "${KIAGO[@]}" "${bench_args[@]}" --candidates "$CAND" --steps 1000 2>&1 | tee -a "$WORK/whole-step.txt" || fail whole-step-1000
fi
if [ "${COMPARE_SIMPLE:-0}" = 1 ]; then
    echo "-- the same with the untiled kernels (KIAGO_ILGPU_GEMM=simple)"
    KIAGO_ILGPU_GEMM=simple timeout "$(cap 40)" "${KIAGO[@]}" "${bench_args[@]}" --candidates "$CAND" --steps "$STEPS" 2>&1 | tee -a "$WORK/whole-step.txt" || fail whole-step-simple
fi
if [ -n "$smi_pid" ]; then
    kill "$smi_pid" 2>/dev/null
    echo "nvidia-smi peak memory.used while kiago ran: $(sort -n "$WORK/smi-memory.txt" | tail -1) MiB" | tee -a "$WORK/whole-step.txt"
fi

step "peer: kiago_torch.py on $DEV, $CAND x $PEER_STEPS"
peer_args=(--device "$DEV" --candidates "$CAND" --steps "$PEER_STEPS" --json "$WORK/peer.json")
[ "$DEV" = cpu ] && peer_args+=(--threads 2)
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$WORK/smi-memory-peer.txt" 2>/dev/null &
    smi_pid=$!
fi
PYTHONUNBUFFERED=1 timeout "$(cap 70)" "$PY" "$payload/kiago_torch.py" "${peer_args[@]}" >"$WORK/peer.txt" 2>&1 || fail peer
tail -4 "$WORK/peer.txt"
if [ -n "$smi_pid" ]; then
    kill "$smi_pid" 2>/dev/null
    echo "nvidia-smi peak memory.used while the peer ran: $(sort -n "$WORK/smi-memory-peer.txt" | tail -1) MiB" | tee -a "$WORK/peer.txt"
fi

step "end to end: shipped weights, 64 x 60, $DEV vs cpu"
for run in "dev:$DEV" "cpu:cpu"; do
    timeout "$(cap 40)" "${KIAGO[@]}" optimise --base YBa2Cu3O7 --candidates 64 --steps 60 --seed 7 \
        --device "${run#*:}" --out "$WORK/e2e-${run%%:*}" --quiet >"$WORK/e2e-${run%%:*}.log" 2>&1 || fail "e2e ${run#*:}"
done
"$PY" - "$WORK/e2e-dev/candidates.csv" "$WORK/e2e-cpu/candidates.csv" <<'EOF' 2>&1 | tee "$WORK/e2e.txt"
import csv, sys
try:
    a, b = ([r for r in csv.DictReader(open(p))] for p in sys.argv[1:3])
except OSError as e:
    sys.exit(f"e2e: missing output: {e}")
same = sum(x["formula"] == y["formula"] for x, y in zip(a, b))
dtc = max(abs(float(x["tc_continuous"]) - float(y["tc_continuous"])) for x, y in zip(a, b))
print(f"e2e: {len(a)} vs {len(b)} rows; identical final formula in {same}; max |tc_continuous difference| {dtc:.4f} K")
print("e2e: mean tc_rounded", sum(float(x["tc_rounded"]) for x in a) / len(a), "vs", sum(float(y["tc_rounded"]) for y in b) / len(b))
EOF

step "kiago bench --device $DEV (ResNet18, ElemNet)"
for only in resnet elemnet; do
    timeout "$(cap 30)" "${KIAGO[@]}" bench --device "$DEV" --only "$only" --batch "$CAND" --repeats 3 2>&1 | tee -a "$WORK/bench.txt" || fail "bench $only"
done

step "SuperDiff sampling on $DEV: $CAND x $SD_STEPS, ILVR 4"
rm -rf "$WORK/sd-run"
timeout "$(cap 40)" "${KIAGO[@]}" baseline superdiff --base Ba2Cu3O7Y1 --denoiser weights/superdiff-denoiser.kgw --samples "$CAND" \
    --steps "$SD_STEPS" --ilvr-scale 4 --thresholds 0.05 --device "$DEV" --out "$WORK/sd-run" 2>&1 | tail -2 | tee "$WORK/superdiff.txt" || fail superdiff
grep -A1 -E '"sampling_seconds"|"device"' "$WORK/sd-run/manifest.json" 2>/dev/null | tee -a "$WORK/superdiff.txt"

if [ "${TRAIN:-1}" = 0 ]; then
    step "packing (no training: TRAIN=0)"
    (cd "$WORK" && tar -cJf "$OUT/results.tar.xz" --exclude='bench-run' --exclude='e2e-*/traces.csv' \
        check-device.txt whole-step.txt peer.txt peer.json e2e.txt e2e-* bench.txt superdiff.txt smi-memory*.txt 2>/dev/null)
    ls -la "$OUT"
    step "done, status $status"
    exit $status
fi

step "training sweep"
train_left=$((DEADLINE_S - $(elapsed) - 75))
budget=$(awk -v l="$train_left" -v m="$TRAIN_MAX_MIN" 'BEGIN { b = l / 60.0; if (b > m) b = m; if (b < 0.1) b = 0.1; printf "%.2f", b }')
echo "training budget $budget min per run"
train_dev=$DEV; [ "$DEV" = cpu ] && train_dev=cpu
PYTHONUNBUFFERED=1 "$PY" training/sweep.py --out "$WORK/sweep" --budget-minutes "$budget" --data "$WORK/data" \
    --device "$train_dev" --threads 3 ${SWEEP_RUNS:+--runs "$SWEEP_RUNS"} || fail sweep
for d in "$WORK"/sweep/*/; do [ -f "$d/train.log" ] || continue; echo "-- $d"; grep -E '"epoch"' "$d/train.log" | tail -2 | cut -c1-260; grep -E "^test|sanity|pure" "$d/train.log" | cut -c1-400; done

step "packing"
(cd "$WORK" && tar -cJf "$OUT/results.tar.xz" --exclude='*.pt' --exclude='bench-run' --exclude='dotnet' --exclude='kiago' --exclude='data' \
    --exclude='e2e-*/traces.csv' check-device.txt whole-step.txt peer.txt peer.json e2e.txt e2e-* bench.txt superdiff.txt sweep smi-memory*.txt 2>/dev/null)
if ls "$WORK"/sweep/best/*/state.pt >/dev/null 2>&1; then
    (cd "$WORK/sweep" && tar -cf - best/*/state.pt | xz -T0 -3 | split -b 15M - "$OUT/weights.tar.xz.part-")
fi
ls -la "$OUT"
step "done, status $status"
exit $status
