#!/usr/bin/env bash
# Regenerates results/published/: the leaderboard of the three models that ship in PyPI packages, GPT-4
# protocol (3 translated dev shots), MMLU test, all 57 subjects x the first $LIMIT questions, English and $LANGS
# translated by the embedded local translator (TRANSLATOR=... for another).
#   bash bench/published.sh            (or: make published)
# Resumable across sessions and machines: the translations it finished are committed under
# results/published/translations/ and are taken back when the translator's fingerprint matches (a fresh clone
# re-translates nothing published), predictions resume per question, and the work goes in pieces - a language's
# translation $PIECE subjects at a time (each piece writes its files; the next takes them back and adds more;
# pieces the files already hold are not run again),
# its scoring one (model, language) at a time - so an interrupted run loses at most the piece in flight.
# After each finished piece the report is redrawn from what is there, so the folder is consistent at every step,
# and AFTER='cmd' runs with what finished as $1 (the board's own runs commit each piece there). Measured on 2
# cores: README, "How the published board is made".
# Grow it: LIMIT=10 (more questions), LANGS=... (more languages), MODELS=... (more models; an `openai:<name>`
# with --base-url runs a bigger model on a GPU server).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
# the English MMLU beside the checkout, as `make` sets it; otherwise the hub default (hf:cais/mmlu)
if [ -z "${MMLU_ML_SOURCE:-}" ] && [ -d ../shared/mmlu ]; then export MMLU_ML_SOURCE=../shared/mmlu; fi
OUT=${OUT:-results/published}
SUBJECTS=${SUBJECTS:-all}
LANGS=${LANGS:-de,fr,es,it,zh,sw}
LIMIT=${LIMIT:-5}
MODELS=${MODELS:-llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m llamacpp:qwen2.5-coder-0.5b-instruct-q4_k_m llamacpp:gemma-3-270m-q4_k_m}
STEP=${STEP:-all}   # translate | evaluate | report | all
PIECE=${PIECE:-19}  # subjects a translation piece adds
TRANSLATOR=${TRANSLATOR:-local}  # the board's: the embedded local model (azure, openai: with their settings)
AFTER=${AFTER:-}

covered() {  # folder subject...: how many subjects, from the first, its dev (3 shots) and test ($LIMIT) hold
  $BIN/python - "$LIMIT" "$@" <<'PY'
import json, sys
from pathlib import Path
limit, folder, subjects = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
def units(split):
    try:
        return json.loads((folder / f"{split}.manifest.json").read_text(encoding="utf-8")).get("units") or {}
    except (OSError, ValueError):
        return {}
dev, test = units("dev"), units("test")
held = 0
for s in subjects:
    if f"{s}/dev/2" not in dev or f"{s}/test/{limit - 1}" not in test:
        break
    held += 1
print(held)
PY
}
redraw() { if [ -f "$OUT/scores.csv" ]; then $BIN/mmlu-ml report --out "$OUT" >/dev/null; fi; }
after() {
  redraw
  if [ -n "$AFTER" ]; then bash -c "$AFTER" _ "$1"; fi
}

if [ "$STEP" = all ] || [ "$STEP" = translate ]; then
  if [ "$SUBJECTS" = all ]; then
    read -r -a subjects <<<"$($BIN/python -c 'from mmlu_ml.core.mmlu import SUBJECTS; print(*SUBJECTS)')"
  else
    IFS=, read -r -a subjects <<<"$SUBJECTS"
  fi
  n=${#subjects[@]}
  for lang in ${LANGS//,/ }; do
    # the subjects, from the first, that the written files already hold: their pieces are not run again (a
    # smaller piece would rewrite the files smaller, and the effort they record with them)
    held=$(covered "$OUT/translations/$TRANSLATOR/$lang" "${subjects[@]}")
    if [ "$held" -ge "$n" ]; then echo "$lang: all $n subjects already translated"; continue; fi
    if [ "$held" -gt 0 ]; then echo "$lang: $held of $n subjects already translated, going on from there"; fi
    first=$(( (held / PIECE + 1) * PIECE ))
    for ((k = first < n ? first : n; ; k = k + PIECE < n ? k + PIECE : n)); do
      piece=$(IFS=,; echo "${subjects[*]:0:k}")
      # dev: only the 3 shots the GPT-4 protocol uses; test: the first $LIMIT questions of each subject
      $BIN/mmlu-ml translate --translator "$TRANSLATOR" --languages "$lang" --subjects "$piece" --splits dev --limit 3 --out "$OUT"
      # handed on alone too: a slow language's dev shots are an hour's work, and the report reads their manifest
      after "translated $lang dev shots ($k of $n subjects)"
      $BIN/mmlu-ml translate --translator "$TRANSLATOR" --languages "$lang" --subjects "$piece" --splits test --limit "$LIMIT" --out "$OUT"
      after "translated $lang ($k of $n subjects)"
      [ "$k" -lt "$n" ] || break
    done
  done
fi
if [ "$STEP" = all ] || [ "$STEP" = evaluate ]; then
  for model in $MODELS; do
    for lang in ${LANGS//,/ }; do  # English with each language: it is scored once, the paired differences each time
      $BIN/mmlu-ml evaluate --model "$model" --protocol gpt4 --languages "en,$lang" --subjects "$SUBJECTS" \
        --limit "$LIMIT" --out "$OUT" --eval-translator "$TRANSLATOR"
      after "scored ${model#*:} on en,$lang"
    done
  done
fi
if [ "$STEP" = all ] || [ "$STEP" = report ]; then  # drawn once more, with its summary on the terminal
  $BIN/mmlu-ml report --out "$OUT"
  if [ -n "$AFTER" ]; then bash -c "$AFTER" _ "report"; fi
fi
