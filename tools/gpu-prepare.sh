#!/usr/bin/env bash
# Run HERE (a machine with the .NET SDK) before a device session: fills .gpu-payload/ (git-ignored, carried to the
# GPU machine) with what tools/gpu-check.sh needs there when that machine has no .NET (engine-notes §7):
#   bench.tar.xz             framework-dependent Release publish of bench/Kiago.Bench (benchmarks + cuda-check), linux-x64 only
#   dotnet-runtime.tar.xz    this machine's .NET runtime (dotnet host + Microsoft.NETCore.App), ~27 MB
#   kiago_torch.py           the PyTorch peer (../shared does not travel to the device machine)
# Then call the device tool's run with carry [".gpu-payload"] and command "bash tools/gpu-check.sh".
set -euo pipefail
cd "$(dirname "$0")/.."
payload=.gpu-payload
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx "/$payload/" "$exclude" 2>/dev/null || echo "/$payload/" >>"$exclude"
rm -rf "$payload"
mkdir -p "$payload"

echo "== publishing bench/Kiago.Bench (Release, framework-dependent)"
dotnet publish bench/Kiago.Bench -c Release -o "$payload/bench" --self-contained false -v q -nologo
# The device machine is linux x86-64: drop other platforms' native parts and satellite resources, then pack.
(cd "$payload/bench" && rm -rf x86 arm64 runtimes/win* runtimes/osx* runtimes/linux-arm* runtimes/linux-musl* \
    cs de es fr it ja ko pl pt-BR ru tr zh-Hans zh-Hant)
tar -C "$payload" -cf - bench | xz -T2 -6 >"$payload/bench.tar.xz"
rm -rf "$payload/bench"

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ {v=$2} END {print v}')
echo "== packing .NET runtime $runtime from $dotnet_root"
tar -C "$dotnet_root" -cf - dotnet host "shared/Microsoft.NETCore.App/$runtime" | xz -T2 -6 >"$payload/dotnet-runtime.tar.xz"

peer=../shared/peer/kiago_torch.py
[ -f "$peer" ] && cp "$peer" "$payload/" || echo "warning: $peer not found; the peer step will be skipped"

ls -la "$payload"; du -sh "$payload"
echo "== ready: carry [\"$payload\"], command: bash tools/gpu-check.sh   (device time: ~5 min after the machine starts)"
