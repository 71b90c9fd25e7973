#!/usr/bin/env bash
# Times the tiled-kernel variants (KIAGO_ILGPU_TILE / _TILE_K / _PREFETCH / _VEC4) in one short device
# call (run tools/gpu-prepare.sh here first; carry .gpu-payload). In the repository root:
#   bash tools/gpu-tune.sh
# For each variant, in order, while time is left (TUNE_TOTAL_S, default 140 s, for everything):
#   `kiago check-device` (parity on the small shapes; --resnet when TUNE_RESNET=1) and
#   `kiago optimise --benchmark` (CANDIDATES x STEPS, default 4096 x 60), then one summary line:
#   tune: variant=N env="..." check=PASS|FAIL|SKIP ms_per_step=... seconds=...
# Then `kiago bench --only stages --batch CANDIDATES` for the fastest passing variant and for the default.
# Results: $OUT/tune-summary.txt (the summary lines, best last), $OUT/tune.log (everything), per-step logs in $OUT/logs/.
# TUNE_VARIANTS="label|ENV=V ENV=V;label|..." replaces the variant list ("default|" is the default settings).
# GPU_CHECK_DEVICE=cpu: a dry run on a CPU-only machine (ilgpu-cpu, 4 candidates x 2 steps, 900 s budget; use 2 variants).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-tune-out}
WORK=${GPU_WORK:-/tmp/kiago-tune}
# Caps (seconds) on one check-device, one benchmark and one stage benchmark; VARIANT_S: what one variant needs
# (check + benchmark incl. start-up), so a variant starts only while VARIANT_S + 2 x STAGES_S are left.
if [ "${GPU_CHECK_DEVICE:-cuda}" = cuda ]; then
    DEV=cuda CAND=${CANDIDATES:-4096} STEPS=${STEPS:-60} TOTAL_S=${TUNE_TOTAL_S:-140}
    CHECK_S=30 BENCH_S=40 STAGES_S=${TUNE_STAGES_S:-16} VARIANT_S=${TUNE_VARIANT_S:-13}
else
    DEV=ilgpu-cpu CAND=${CANDIDATES:-4} STEPS=${STEPS:-2} TOTAL_S=${TUNE_TOTAL_S:-900}
    CHECK_S=150 BENCH_S=240 STAGES_S=${TUNE_STAGES_S:-200} VARIANT_S=${TUNE_VARIANT_S:-60}
fi
DEFAULT_VARIANTS="default|;\
vec4|KIAGO_ILGPU_VEC4=1;\
vec4-prefetch|KIAGO_ILGPU_VEC4=1 KIAGO_ILGPU_PREFETCH=1;\
vec4-k8-prefetch|KIAGO_ILGPU_VEC4=1 KIAGO_ILGPU_TILE_K=8 KIAGO_ILGPU_PREFETCH=1;\
k8-prefetch|KIAGO_ILGPU_TILE_K=8 KIAGO_ILGPU_PREFETCH=1;\
prefetch|KIAGO_ILGPU_PREFETCH=1;\
vec4-64x64-k8-prefetch|KIAGO_ILGPU_VEC4=1 KIAGO_ILGPU_TILE=64x64 KIAGO_ILGPU_TILE_K=8 KIAGO_ILGPU_PREFETCH=1;\
k8|KIAGO_ILGPU_TILE_K=8;\
64x64|KIAGO_ILGPU_TILE=64x64"
VARIANTS=${TUNE_VARIANTS:-$DEFAULT_VARIANTS}
T0=$(date +%s)
mkdir -p "$OUT/logs" "$WORK"
exec > >(tee -a "$OUT/tune.log") 2>&1
LIMIT_S=$TOTAL_S
source tools/gpu-lib.sh

step "machine ($DEV, $CAND x $STEPS, budget ${TOTAL_S}s)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader

unpack_payload
step "unpacked"

# run_kiago LOG SECONDS ENV... -- ARGS...: kiago under `timeout` with the variant's environment, output in LOG.
run_kiago() {
    local log=$1 secs=$2; shift 2
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" timeout "$secs" "${KIAGO[@]}" "$@" >"$log" 2>&1
}

summary=$OUT/tune-summary.txt
: >"$summary"
best_label= best_env= best_ms=
IFS=';' read -ra variant_list <<<"$VARIANTS"
n=0
for entry in "${variant_list[@]}"; do
    n=$((n + 1))
    label=${entry%%|*} envs=${entry#*|}
    read -ra env_args <<<"$envs"
    if [ "$(left)" -lt $((VARIANT_S + 2 * STAGES_S)) ]; then
        line="tune: variant=$n label=$label env=\"$envs\" check=SKIP ms_per_step=NA (out of time: $(left)s left)"
        echo "$line" | tee -a "$summary"
        continue
    fi
    step "variant $n $label: $envs"
    check=FAIL
    check_args=(check-device --device "$DEV")
    [ "${TUNE_RESNET:-0}" = 1 ] && [ "$DEV" = cuda ] && check_args+=(--resnet)
    if run_kiago "$OUT/logs/check-$n.txt" "$(cap "$CHECK_S")" "${env_args[@]}" -- "${check_args[@]}"; then check=PASS; fi
    grep -E "tiling:|gemm kernel:|check-device:|FAIL|error" "$OUT/logs/check-$n.txt" | head -8
    run_kiago "$OUT/logs/bench-$n.txt" "$(cap "$BENCH_S")" "${env_args[@]}" -- optimise --benchmark --base YBa2Cu3O7 --candidates "$CAND" \
        --steps "$STEPS" --max-atoms 25 --tc-model random --ef-model random --device "$DEV" --out "$WORK/x_$n" \
        || echo "!! optimise --benchmark failed (exit $?): $(tail -2 "$OUT/logs/bench-$n.txt" | tr '\n' ' ')"
    ms=$(grep -o 'ms_per_step=[0-9.]*' "$OUT/logs/bench-$n.txt" | head -1 | cut -d= -f2)
    secs=$(grep -o 'seconds=[0-9.]*' "$OUT/logs/bench-$n.txt" | head -1 | cut -d= -f2)
    line="tune: variant=$n label=$label env=\"$envs\" check=$check ms_per_step=${ms:-NA} seconds=${secs:-NA}"
    echo "$line" | tee -a "$summary"
    if [ "$check" = PASS ] && [ -n "$ms" ] && { [ -z "$best_ms" ] || awk -v a="$ms" -v b="$best_ms" 'BEGIN { exit !(a < b) }'; }; then
        best_label=$label best_env=$envs best_ms=$ms
    fi
done
echo "tune: best label=${best_label:-none} env=\"$best_env\" ms_per_step=${best_ms:-NA}" | tee -a "$summary"

# Per-stage timings: the best variant first (what would become the default), then the default settings.
stage_runs=("$best_label|$best_env")
[ "$best_label" != default ] && stage_runs+=("default|")
for entry in "${stage_runs[@]}"; do
    label=${entry%%|*} envs=${entry#*|}
    [ -n "$label" ] || continue
    if [ "$(left)" -lt 5 ]; then echo "tune: stages $label skipped (out of time)"; continue; fi
    step "bench --only stages, $label: $envs"
    read -ra env_args <<<"$envs"
    run_kiago "$OUT/logs/stages-$label.txt" "$(cap "$STAGES_S")" "${env_args[@]}" -- bench --device "$DEV" --only stages \
        --batch "$CAND" --repeats 3 || echo "!! stages $label: exit $?"
    grep -E "tiling:|resnet18" "$OUT/logs/stages-$label.txt" | sed "s/^/stages[$label] /" | tee -a "$summary"
done
step "done"
cat "$summary"
