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

# The lines above with the subject left out, for a translated line that fails its checks (a line that names
# another subject, loops or stays English): the frame is translated once per language and the subject's name
# apart, and the line is put together as "<head>: <subject>[. <tail>]" (mmlu_ml.translate.instructions).
# A colon before the name keeps every language's grammar out of the join (no case to inflect).
FRAMES = {
    "gopher": ("A highly knowledgeable and intelligent artificial intelligence model answers multiple-choice "
               "questions on the following subject", ""),
    "cot": ("Answer the following multiple-choice question on the following subject",
            "Think step by step before giving the answer."),
}
# The kinds of translated line and the template each is made from (the keys of instructions.json); a protocol
# names its kind (core/protocols.py: Protocol.instruction_kind).
KINDS = {"gopher": GOPHER, "cot": COT}
# Every first line a protocol can use: the translated kinds and those always in English.
INSTRUCTIONS = {**KINDS, "mmlu5": MMLU5}
