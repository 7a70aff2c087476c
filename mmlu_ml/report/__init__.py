"""Stage 3, report: `stage.py` reads scores.csv and the manifests (data) and writes the chart, the leaderboard
(md, csv, html, png through a headless browser) and the translation-quality page into <out>/report/."""
