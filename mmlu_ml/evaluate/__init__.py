"""Stage 2, evaluate: `stage.py` scores a model per language and writes predictions/, scores.csv, paired.csv,
paired_by_checks.csv.
Beside it: inputs (reading translations), protocols (prompt formats, answer parsing), scores (tables and
intervals); `models/` holds the backends."""
