#!/usr/bin/env bash
# Run HERE (a machine with the .NET SDK) before a device session: fills .gpu-payload/ (git-ignored, carried to the
# GPU machine) with what tools/gpu-check.sh needs there, where there is no .NET and no ../shared (engine-notes §7):
#   kiago.tar.xz            framework-dependent Release publish of the `kiago` CLI (linux-x64; no report natives)
#   dotnet-runtime.tar.xz   this machine's .NET runtime (dotnet host + Microsoft.NETCore.App), ~25 MB
#   data.tar.xz             the ../shared/data tables the training scripts read (~1.8 MB packed)
#   kiago_torch.py          the PyTorch peer (../shared/peer)
# The tracked tree travels too (~34 MB, mostly weights/); the whole call must stay under 64 MiB.
# Then call the device tool's run with carry [".gpu-payload"] and command "bash tools/gpu-check.sh".
set -euo pipefail
cd "$(dirname "$0")/.."
payload=.gpu-payload
shared=${KIAGO_SHARED:-../shared}
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx "/$payload/" "$exclude" 2>/dev/null || echo "/$payload/" >>"$exclude"
rm -rf "$payload"
mkdir -p "$payload/stage"

echo "== publishing src/Kiago.Cli (Release, framework-dependent)"
dotnet publish src/Kiago.Cli -c Release -o "$payload/stage/kiago" --self-contained false -v q -nologo
# linux x86-64 only; `kiago report` (SkiaSharp natives) is not run there; no symbols or satellite resources.
(cd "$payload/stage/kiago" && rm -rf runtimes ./*.pdb cs de es fr it ja ko pl pt-BR ru tr zh-Hans zh-Hant)
tar -C "$payload/stage" -cf - kiago | xz -T2 -9 >"$payload/kiago.tar.xz"
rm -rf "$payload/stage"

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ {v=$2} END {print v}')
echo "== packing .NET runtime $runtime from $dotnet_root"
tar -C "$dotnet_root" -cf - dotnet host "shared/Microsoft.NETCore.App/$runtime" | xz -T2 -9 >"$payload/dotnet-runtime.tar.xz"

echo "== packing training data from $shared/data"
tar -C "$shared/data" -cf - supercon.csv non_superconductors.csv formation_energy_oqmd.csv elements.csv | xz -T2 -9 >"$payload/data.tar.xz"
cp "$shared/peer/kiago_torch.py" "$payload/"

ls -la "$payload"
tracked=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
carried=$(du -cb "$payload" | tail -1 | cut -f1)
echo "== tracked $((tracked / 1048576)) MiB + payload $((carried / 1048576)) MiB = $(((tracked + carried) / 1048576)) MiB (limit 64)"
[ $((tracked + carried)) -lt $((63 * 1048576)) ] || { echo "too large to travel"; exit 1; }
echo "== ready: carry [\"$payload\"], command: bash tools/gpu-check.sh"
