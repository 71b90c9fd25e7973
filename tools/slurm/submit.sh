#!/usr/bin/env bash
# Submits a Kiago run as a Slurm array job of N shards plus a merge job that runs when every shard succeeded.
#   tools/slurm/submit.sh --shards N --root DIR [--gpu | --cpus C] [--kiago CMD] [--sbatch "EXTRA"] -- SUBCOMMAND ARGS...
# e.g. tools/slurm/submit.sh --shards 8 --root /scratch/run1 --gpu -- optimise --bases bases.csv --candidates 4096
# SUBCOMMAND: optimise | substitute | hydride | baseline ces | experiment KIND (no --out, no --shard: this script sets them).
# --gpu: one GPU and 4 CPUs per shard, --device cuda. --cpus C (default): C CPUs per shard, --device cpu.
# Prints the two job ids (array, merge); the result lands in DIR/merged, each shard's folder in DIR/shard-I.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=""; root=""; gpu=0; cpus=2; kiago=${KIAGO:-kiago}; extra=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --shards) shards=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --gpu) gpu=1; shift ;;
    --cpus) cpus=$2; shift 2 ;;
    --kiago) kiago=$2; shift 2 ;;
    --sbatch) extra=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "submit.sh: unknown option $1 (see the header of $0)" >&2; exit 1 ;;
  esac
done
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: --shards N (N ≥ 1) is required" >&2; exit 1; }
[[ -n "$root" ]] || { echo "submit.sh: --root DIR is required" >&2; exit 1; }
[[ $# -gt 0 ]] || { echo "submit.sh: give the kiago subcommand and its arguments after --" >&2; exit 1; }
mkdir -p "$root"
root=$(cd "$root" && pwd)
if [[ $gpu == 1 ]]; then resources=(--gres=gpu:1 --cpus-per-task=4); device=(--device cuda)
else resources=(--cpus-per-task="$cpus"); device=(--device cpu); fi
# shellcheck disable=SC2086 # EXTRA is a list of sbatch options
array=$(sbatch --parsable --export=ALL,KIAGO="$kiago" --chdir="$root" --array=0-$((shards - 1)) "${resources[@]}" $extra \
  "$here/kiago-shard.sbatch" "$shards" "$root" "$@" "${device[@]}")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable --export=ALL,KIAGO="$kiago" --chdir="$root" --dependency=afterok:"$array" --kill-on-invalid-dep=yes $extra \
  "$here/kiago-merge.sbatch" "$shards" "$root")
merge=${merge%%;*}
echo "$array $merge"
