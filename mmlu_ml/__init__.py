"""mmlu-ml: translate MMLU, score models per language, and chart the result (GPT-4 report, Fig. 5)."""

__version__ = "0.1.0"
