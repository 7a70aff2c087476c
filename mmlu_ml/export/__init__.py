"""Stage 4, export: translations out of our JSONL layout into the ecosystem's forms (hub dataset, lm-eval task)."""

# Formats by name, like the backend registries: `stage.run_export` loads one with mmlu_ml.core.registry.load.
FORMATS = {
    "hf-dataset": "mmlu_ml.export.hf_dataset:export",
    "lm-eval": "mmlu_ml.export.lm_eval:export",
}
