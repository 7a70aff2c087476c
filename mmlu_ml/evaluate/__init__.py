"""Stage 2, evaluate: `stage.py` scores a model per language and writes predictions/, scores.csv, paired.csv,
paired_by_checks.csv.
Beside it: inputs (reading translations), scores (tables and intervals); `models/` holds the backends. The
prompt formats (protocols) and the translation checks it runs are in core/, below the stages."""
