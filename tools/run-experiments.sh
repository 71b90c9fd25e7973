#!/usr/bin/env bash
# Runs the paper's three experiments (KIAGO vs C-ES) and Table 1 with the shipped predictors and collects the
# tables into one markdown file. Sizes are arguments so the same script does the reduced CPU run and the full GPU run.
#   tools/run-experiments.sh OUT [CANDIDATES] [STEPS] [CES_SAMPLES] [DEVICE]
# e.g. tools/run-experiments.sh runs/cpu 64 200 1024 cpu      (2-core CPU, under an hour)
#      tools/run-experiments.sh runs/gpu 4096 1000 4096 cuda   (the paper's size)
set -euo pipefail
out=${1:?usage: tools/run-experiments.sh OUT [CANDIDATES] [STEPS] [CES_SAMPLES] [DEVICE]}
candidates=${2:-64}; steps=${3:-200}; ces=${4:-1024}; device=${5:-auto}
tc=${TC_MODEL:-weights/tc-resnet18.kgw}; ef=${EF_MODEL:-weights/elemnet.kgw}
bases=../shared/data/experiments/reference_sample_configs
kiago=(dotnet run --project src/Kiago.Cli -c Release --)
common=(--tc-model "$tc" --ef-model "$ef" --candidates "$candidates" --steps "$steps" --ces-samples "$ces" --device "$device")
mkdir -p "$out"
"${kiago[@]}" experiment normal --bases "$bases/experiment_usual_dict.json" "${common[@]}" \
  --integerisation 15,20,25,50,100 --out "$out/normal" > /dev/null
"${kiago[@]}" experiment substitution --bases "$bases/experiment_element_substitution_dict.json" "${common[@]}" --out "$out/substitution" > /dev/null
"${kiago[@]}" experiment hydride --bases "$bases/experiment_usual_hsc.json" "${common[@]}" --out "$out/hydride" > /dev/null
for e in normal substitution hydride; do "${kiago[@]}" report "$out/$e/kiago" > /dev/null; done
{
  echo "## Normal (Tables 2 and 1)"; echo; cat "$out/normal/tables.md"
  echo "## Element substitution (Tables 5–7)"; echo; cat "$out/substitution/tables.md"
  echo "## Hydrides (Tables 9–10)"; echo; cat "$out/hydride/tables.md"
} > "$out/EXPERIMENT-TABLES.md"
echo "$out/EXPERIMENT-TABLES.md"
