#!/usr/bin/env bash
# How much of a language's drop below English is the translator? Okapi's ChatGPT translation (imported from
# ../shared/reference/okapi, CC BY-NC: the results folder stays out of the repository) against ours (the
# embedded local translator), scored by the same model on the same MMLU val ids, GPT-4 protocol.
#   bash bench/translator_sensitivity.sh        (figures: BENCHMARKS.md, "Translation sensitivity")
# Each translation keeps its own dev shots (Okapi's: the first 3 it holds of each subject) and both use our
# translated instruction line (import --instructions-from local), so the comparison is the questions' text.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
if [ -z "${MMLU_ML_SOURCE:-}" ] && [ -d ../shared/mmlu ]; then export MMLU_ML_SOURCE=../shared/mmlu; fi
OUT=${OUT:-results/sensitivity}
LANGS=${LANGS:-de,fr,zh}
LIMIT=${LIMIT:-5}
MODEL=${MODEL:-llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m}
# every third subject: 19 of 57, spanning the four categories (6 STEM, 6 humanities, 4 social sciences, 3 other)
SUBJECTS=${SUBJECTS:-abstract_algebra,business_ethics,college_chemistry,college_medicine,conceptual_physics,elementary_mathematics,high_school_biology,high_school_european_history,high_school_macroeconomics,high_school_physics,high_school_us_history,human_sexuality,logical_fallacies,marketing,moral_disputes,philosophy,professional_law,public_relations,us_foreign_policy}
for lang in ${LANGS//,/ }; do
  $BIN/mmlu-ml translate --translator local --languages "$lang" --subjects "$SUBJECTS" --splits dev --limit 3 --out "$OUT"
  $BIN/mmlu-ml translate --translator local --languages "$lang" --subjects "$SUBJECTS" --splits val --limit "$LIMIT" --out "$OUT"
done
$BIN/mmlu-ml import okapi ../shared/reference/okapi --languages "$LANGS" --splits dev,val --out "$OUT" \
  --instructions-from local
$BIN/mmlu-ml evaluate --model "$MODEL" --languages "en,$LANGS" --subjects "$SUBJECTS" --splits val --limit "$LIMIT" \
  --translator okapi,local --out "$OUT"
$BIN/mmlu-ml report --out "$OUT"
