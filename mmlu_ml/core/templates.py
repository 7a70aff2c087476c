"""English prompt lines that the translate stage translates per language and the evaluate stage uses.

Kept here, apart from both stages, because the translation of each line is part of the translated set:
`translate` writes `instructions.json` beside a language's splits, `evaluate` reads it.
"""

# GPT-4 technical report, Appendix F (the Gopher-style MMLU prompt); {subject} is e.g. "high school physics".
GOPHER = "A highly knowledgeable and intelligent artificial intelligence model answers multiple-choice questions about {subject}"

# Zero-shot chain of thought (protocol cot0); the line that asks for the final "<Answer>: X" is added by the
# evaluate stage with the language's own word for "Answer" from languages.yaml.
COT = "Answer the following multiple-choice question about {subject}. Think step by step before giving the answer."

# lm-evaluation-harness's MMLU instruction (protocol mmlu5, always English).
MMLU5 = "The following are multiple choice questions (with answers) about {subject}."
