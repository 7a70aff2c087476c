#!/usr/bin/env bash
# Regenerates results/published/: the leaderboard of the models that ship in PyPI packages, on a documented
# slice of MMLU test, translated by the embedded local translator. About an hour on 2 cores (most of it the
# local translator); every step is cached and resumable, so a second run only redraws the report.
#   bash bench/published.sh            (or: make published)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
# the English MMLU beside the checkout, as `make` sets it; otherwise the hub default (hf:cais/mmlu)
if [ -z "${MMLU_ML_SOURCE:-}" ] && [ -d ../shared/mmlu ]; then export MMLU_ML_SOURCE=../shared/mmlu; fi
OUT=${OUT:-results/published}
SUBJECTS=${SUBJECTS:-astronomy,philosophy,high_school_geography,marketing}
LANGS=${LANGS:-de,fr,es,it,zh}
LIMIT=${LIMIT:-3}
MODELS=${MODELS:-qwen2.5-coder-1.5b-instruct-q4_k_m gemma-3-270m-q4_k_m}
# dev: only the 3 shots the GPT-4 protocol uses; test: the first $LIMIT questions of each subject
$BIN/mmlu-ml translate --translator local --languages "$LANGS" --subjects "$SUBJECTS" --splits dev --limit 3 --out "$OUT"
$BIN/mmlu-ml translate --translator local --languages "$LANGS" --subjects "$SUBJECTS" --splits test --limit "$LIMIT" --out "$OUT"
for model in $MODELS; do
  $BIN/mmlu-ml evaluate --model "llamacpp:$model" --protocol gpt4 --languages "en,$LANGS" --subjects "$SUBJECTS" \
    --limit "$LIMIT" --out "$OUT" --eval-translator local
done
$BIN/mmlu-ml report --out "$OUT"
