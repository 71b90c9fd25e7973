# Sourced by tools/gpu-check.sh and tools/gpu-tune.sh on the device machine (repository root as the working folder):
# timing against a limit, and the carried .NET runtime + kiago CLI. The caller sets T0 (start, epoch seconds),
# LIMIT_S (seconds after T0 that cap() may hand out) and WORK (scratch folder).
payload=.gpu-payload
elapsed() { echo $(($(date +%s) - T0)); }
left() { echo $((LIMIT_S - $(elapsed))); }
step() { echo; echo "== $(date -u +%H:%M:%S) +$(elapsed)s $*"; }
# cap SECONDS: the smaller of SECONDS and left() (at least 1: `timeout 0` would mean no limit)
cap() { local l; l=$(left); [ "$l" -lt "$1" ] && echo $((l > 1 ? l : 1)) || echo "$1"; }

# unpack_payload: the carried runtime and CLI into $WORK, in parallel; sets DOTNET and KIAGO=(dotnet kiago.dll).
unpack_payload() {
    export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
    if [ ! -f "$payload/dotnet-runtime.tar.xz" ] || [ ! -f "$payload/kiago.tar.xz" ]; then
        echo "no $payload: run tools/gpu-prepare.sh and carry $payload"; exit 2
    fi
    export DOTNET_ROOT=$WORK/dotnet
    mkdir -p "$DOTNET_ROOT"
    local runtime cli
    tar -C "$DOTNET_ROOT" -xJf "$payload/dotnet-runtime.tar.xz" & runtime=$!
    tar -C "$WORK" -xJf "$payload/kiago.tar.xz" & cli=$!
    wait "$runtime" && wait "$cli" || { echo "unpacking $payload failed"; exit 2; }
    DOTNET=$DOTNET_ROOT/dotnet
    KIAGO=("$DOTNET" "$WORK/kiago/kiago.dll")
}
