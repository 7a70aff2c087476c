"""Readers of translated MMLU sets, one file each, by name. A reader implements `imports.stage.Format`; adding
one is a file here, a line in this dict and a test."""

FORMATS = {
    "mmmlu": "mmlu_ml.imports.formats.mmmlu:MMMLU",
    "global-mmlu": "mmlu_ml.imports.formats.global_mmlu:GlobalMMLU",
    "okapi": "mmlu_ml.imports.formats.okapi:Okapi",
    "jsonl": "mmlu_ml.imports.formats.jsonl:OwnLayout",
}
