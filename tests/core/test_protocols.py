"""Protocols: whole prompt strings for en, de, sw, zh and ar under gpt4, mmlu5 and cot0; answer parsing; a new
protocol as one entry of the registry."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mmlu_ml.core import protocols as prompts
from mmlu_ml.core.errors import MmluMlError
from mmlu_ml.core.languages import load
from mmlu_ml.core.records import Question

# One subject per language: the instruction lines a translation would hold, 3 dev shots, 1 test question.
FIXTURES = {
    "en": (None, None, [
        ("What is 2 + 2?", ("3", "4", "5", "22"), "B"),
        ("Which planet is known as the Red Planet?", ("Venus", "Mars", "Jupiter", "Saturn"), "B"),
        ("What does the Sun mostly consist of?", ("Iron", "Rock", "Hydrogen", "Water"), "C"),
        ("Which planet is closest to the Sun?", ("Mercury", "Venus", "Earth", "Mars"), "A")]),
    "de": ("Ein hochgebildetes und intelligentes KI-Modell beantwortet Multiple-Choice-Fragen über Astronomie",
           "Beantworte die folgende Multiple-Choice-Frage über Astronomie. Denke Schritt für Schritt nach.", [
               ("Was ist 2 + 2?", ("3", "4", "5", "22"), "B"),
               ("Welcher Planet ist als der Rote Planet bekannt?", ("Venus", "Mars", "Jupiter", "Saturn"), "B"),
               ("Woraus besteht die Sonne hauptsächlich?", ("Eisen", "Gestein", "Wasserstoff", "Wasser"), "C"),
               ("Welcher Planet ist der Sonne am nächsten?", ("Merkur", "Venus", "Erde", "Mars"), "A")]),
    "sw": ("Mfano wa akili bandia wenye ujuzi mkubwa hujibu maswali ya chaguo nyingi kuhusu elimu ya nyota",
           "Jibu swali lifuatalo la chaguo nyingi kuhusu elimu ya nyota. Fikiria hatua kwa hatua.", [
               ("2 + 2 ni ngapi?", ("3", "4", "5", "22"), "B"),
               ("Sayari gani inajulikana kama Sayari Nyekundu?", ("Zuhura", "Mirihi", "Mshtarii", "Zohali"), "B"),
               ("Jua linaundwa hasa na nini?", ("Chuma", "Mwamba", "Hidrojeni", "Maji"), "C"),
               ("Sayari gani iko karibu zaidi na Jua?", ("Zebaki", "Zuhura", "Dunia", "Mirihi"), "A")]),
    "zh": ("一个知识渊博、聪明的人工智能模型回答关于天文学的多项选择题",
           "回答以下关于天文学的多项选择题。在给出答案之前逐步思考。", [
               ("2 + 2 等于多少？", ("3", "4", "5", "22"), "B"),
               ("哪颗行星被称为红色星球？", ("金星", "火星", "木星", "土星"), "B"),
               ("太阳主要由什么组成？", ("铁", "岩石", "氢", "水"), "C"),
               ("哪颗行星离太阳最近？", ("水星", "金星", "地球", "火星"), "A")]),
    "ar": ("نموذج ذكاء اصطناعي واسع المعرفة يجيب على أسئلة الاختيار من متعدد حول علم الفلك",
           "أجب عن السؤال التالي متعدد الاختيارات حول علم الفلك. فكر خطوة بخطوة.", [
               ("ما هو ناتج 2 + 2؟", ("3", "4", "5", "22"), "B"),
               ("أي كوكب يُعرف بالكوكب الأحمر؟", ("الزهرة", "المريخ", "المشتري", "زحل"), "B"),
               ("مم تتكون الشمس أساسًا؟", ("الحديد", "الصخور", "الهيدروجين", "الماء"), "C"),
               ("ما هو أقرب كوكب إلى الشمس؟", ("عطارد", "الزهرة", "الأرض", "المريخ"), "A")]),
}

GOLDEN = {
    ("en", "gpt4"): """\
A highly knowledgeable and intelligent artificial intelligence model answers multiple-choice questions about astronomy

What is 2 + 2?
A) 3
B) 4
C) 5
D) 22
Answer: B

Which planet is known as the Red Planet?
A) Venus
B) Mars
C) Jupiter
D) Saturn
Answer: B

What does the Sun mostly consist of?
A) Iron
B) Rock
C) Hydrogen
D) Water
Answer: C

Which planet is closest to the Sun?
A) Mercury
B) Venus
C) Earth
D) Mars
Answer:""",
    ("de", "gpt4"): """\
Ein hochgebildetes und intelligentes KI-Modell beantwortet Multiple-Choice-Fragen über Astronomie

Was ist 2 + 2?
A) 3
B) 4
C) 5
D) 22
Answer: B

Welcher Planet ist als der Rote Planet bekannt?
A) Venus
B) Mars
C) Jupiter
D) Saturn
Answer: B

Woraus besteht die Sonne hauptsächlich?
A) Eisen
B) Gestein
C) Wasserstoff
D) Wasser
Answer: C

Welcher Planet ist der Sonne am nächsten?
A) Merkur
B) Venus
C) Erde
D) Mars
Answer:""",
    ("sw", "gpt4"): """\
Mfano wa akili bandia wenye ujuzi mkubwa hujibu maswali ya chaguo nyingi kuhusu elimu ya nyota

2 + 2 ni ngapi?
A) 3
B) 4
C) 5
D) 22
Answer: B

Sayari gani inajulikana kama Sayari Nyekundu?
A) Zuhura
B) Mirihi
C) Mshtarii
D) Zohali
Answer: B

Jua linaundwa hasa na nini?
A) Chuma
B) Mwamba
C) Hidrojeni
D) Maji
Answer: C

Sayari gani iko karibu zaidi na Jua?
A) Zebaki
B) Zuhura
C) Dunia
D) Mirihi
Answer:""",
    ("zh", "gpt4"): """\
一个知识渊博、聪明的人工智能模型回答关于天文学的多项选择题

2 + 2 等于多少？
A) 3
B) 4
C) 5
D) 22
Answer: B

哪颗行星被称为红色星球？
A) 金星
B) 火星
C) 木星
D) 土星
Answer: B

太阳主要由什么组成？
A) 铁
B) 岩石
C) 氢
D) 水
Answer: C

哪颗行星离太阳最近？
A) 水星
B) 金星
C) 地球
D) 火星
Answer:""",
    ("ar", "gpt4"): """\
نموذج ذكاء اصطناعي واسع المعرفة يجيب على أسئلة الاختيار من متعدد حول علم الفلك

ما هو ناتج 2 + 2؟
A) 3
B) 4
C) 5
D) 22
Answer: B

أي كوكب يُعرف بالكوكب الأحمر؟
A) الزهرة
B) المريخ
C) المشتري
D) زحل
Answer: B

مم تتكون الشمس أساسًا؟
A) الحديد
B) الصخور
C) الهيدروجين
D) الماء
Answer: C

ما هو أقرب كوكب إلى الشمس؟
A) عطارد
B) الزهرة
C) الأرض
D) المريخ
Answer:""",
    # mmlu5 with --shots 2: lm-eval's English description and `A. ` options, whatever the language
    ("en", "mmlu5"): """\
The following are multiple choice questions (with answers) about astronomy.

What is 2 + 2?
A. 3
B. 4
C. 5
D. 22
Answer: B

Which planet is known as the Red Planet?
A. Venus
B. Mars
C. Jupiter
D. Saturn
Answer: B

Which planet is closest to the Sun?
A. Mercury
B. Venus
C. Earth
D. Mars
Answer:""",
    ("de", "mmlu5"): """\
The following are multiple choice questions (with answers) about astronomy.

Was ist 2 + 2?
A. 3
B. 4
C. 5
D. 22
Answer: B

Welcher Planet ist als der Rote Planet bekannt?
A. Venus
B. Mars
C. Jupiter
D. Saturn
Answer: B

Welcher Planet ist der Sonne am nächsten?
A. Merkur
B. Venus
C. Erde
D. Mars
Answer:""",
    ("sw", "mmlu5"): """\
The following are multiple choice questions (with answers) about astronomy.

2 + 2 ni ngapi?
A. 3
B. 4
C. 5
D. 22
Answer: B

Sayari gani inajulikana kama Sayari Nyekundu?
A. Zuhura
B. Mirihi
C. Mshtarii
D. Zohali
Answer: B

Sayari gani iko karibu zaidi na Jua?
A. Zebaki
B. Zuhura
C. Dunia
D. Mirihi
Answer:""",
    ("zh", "mmlu5"): """\
The following are multiple choice questions (with answers) about astronomy.

2 + 2 等于多少？
A. 3
B. 4
C. 5
D. 22
Answer: B

哪颗行星被称为红色星球？
A. 金星
B. 火星
C. 木星
D. 土星
Answer: B

哪颗行星离太阳最近？
A. 水星
B. 金星
C. 地球
D. 火星
Answer:""",
    ("ar", "mmlu5"): """\
The following are multiple choice questions (with answers) about astronomy.

ما هو ناتج 2 + 2؟
A. 3
B. 4
C. 5
D. 22
Answer: B

أي كوكب يُعرف بالكوكب الأحمر؟
A. الزهرة
B. المريخ
C. المشتري
D. زحل
Answer: B

ما هو أقرب كوكب إلى الشمس؟
A. عطارد
B. الزهرة
C. الأرض
D. المريخ
Answer:""",
    ("en", "cot0"): """\
Answer the following multiple-choice question about astronomy. Think step by step before giving the answer.

Which planet is closest to the Sun?

A) Mercury
B) Venus
C) Earth
D) Mars

Answer: X  (X = A / B / C / D)
""",
    ("de", "cot0"): """\
Beantworte die folgende Multiple-Choice-Frage über Astronomie. Denke Schritt für Schritt nach.

Welcher Planet ist der Sonne am nächsten?

A) Merkur
B) Venus
C) Erde
D) Mars

Antwort: X  (X = A / B / C / D)
""",
    ("sw", "cot0"): """\
Jibu swali lifuatalo la chaguo nyingi kuhusu elimu ya nyota. Fikiria hatua kwa hatua.

Sayari gani iko karibu zaidi na Jua?

A) Zebaki
B) Zuhura
C) Dunia
D) Mirihi

Jibu: X  (X = A / B / C / D)
""",
    ("zh", "cot0"): """\
回答以下关于天文学的多项选择题。在给出答案之前逐步思考。

哪颗行星离太阳最近？

A) 水星
B) 金星
C) 地球
D) 火星

答案: X  (X = A / B / C / D)
""",
    ("ar", "cot0"): """\
أجب عن السؤال التالي متعدد الاختيارات حول علم الفلك. فكر خطوة بخطوة.

ما هو أقرب كوكب إلى الشمس؟

A) عطارد
B) الزهرة
C) الأرض
D) المريخ

الإجابة: X  (X = A / B / C / D)
""",
}


def fixture(code):
    gopher, cot, items = FIXTURES[code]
    qs = [Question("astronomy", "dev" if i < 3 else "test", i if i < 3 else 0, text, choices, answer, code)
          for i, (text, choices, answer) in enumerate(items)]
    instructions = None if code == "en" else {"gopher": {"astronomy": gopher}, "cot": {"astronomy": cot}}
    return qs[:3], qs[3], instructions


@pytest.mark.parametrize("code,protocol", sorted(GOLDEN))
def test_golden_prompt(code, protocol):
    shots, question, instructions = fixture(code)
    language = load().languages[code]
    proto = prompts.get(protocol, shots=2 if protocol == "mmlu5" else None)
    prefix = proto.prefix("astronomy", language, shots, instructions)
    assert prefix + proto.suffix(question, language) == GOLDEN[(code, protocol)]
    # the shared part ends where the question starts, so a backend can keep it in its KV cache
    assert GOLDEN[(code, protocol)].startswith(prefix) and prefix.endswith("\n\n")


def test_protocol_defaults_and_recorded_settings():
    gpt4, mmlu5, cot0 = (prompts.get(n) for n in ("gpt4", "mmlu5", "cot0"))
    assert (gpt4.shots, mmlu5.shots, cot0.shots) == (3, 5, 0)
    assert gpt4.letters == mmlu5.letters == (" A", " B", " C", " D")
    s = gpt4.settings()
    assert s["options"] == "A)" and s["instruction"] == "translated" and s["scoring"] == "logprob"
    assert mmlu5.settings()["options"] == "A." and mmlu5.settings()["instruction"] == "English template"
    assert cot0.settings()["max_tokens"] == 512 and prompts.get("cot0", max_tokens=64).settings()["max_tokens"] == 64
    assert prompts.get("gpt4", shots=0).settings() != s  # a shot override is part of the configuration
    shots, question, _ = fixture("en")
    en = load().languages["en"]
    zero = prompts.get("gpt4", shots=0).prefix("astronomy", en, shots, None)
    assert zero == "A highly knowledgeable and intelligent artificial intelligence model answers multiple-choice " \
                   "questions about astronomy\n\n"
    with pytest.raises(MmluMlError, match="unknown protocol 'gpt5'; valid: gpt4, mmlu5, cot0"):
        prompts.get("gpt5")


def test_mmlu5_keeps_choice_whitespace_like_lm_eval():
    en = load().languages["en"]
    q = Question("astronomy", "test", 0, "  Why? ", (" a", "b ", "c", "d"), "A")
    assert prompts.get("mmlu5").suffix(q, en) == "Why?\nA.  a\nB. b \nC. c\nD. d\nAnswer:"
    assert prompts.get("gpt4").suffix(q, en) == "Why?\nA) a\nB) b\nC) c\nD) d\nAnswer:"


def test_missing_instruction_line_names_the_fix():
    shots, question, _ = fixture("de")
    de = load().languages["de"]
    with pytest.raises(MmluMlError, match="no 'gopher' line for astronomy.*mmlu-ml translate --languages de"):
        prompts.get("gpt4").prefix("astronomy", de, shots, {"gopher": {}})


@pytest.mark.parametrize("code,text,expected", [
    ("de", "Antwort:\n\nAntwort: C", "C"),  # the last match wins, not the first
    ("de", "Antwort: A ist falsch, weil ... Antwort: D", "D"),
    ("en", "**Answer:** (B)", "B"),
    ("en", "answer: b", "B"),
    ("sw", "Jibu: (a)", "A"),
    ("sw", "Answer: D", "D"),  # English word accepted in any language
    ("zh", "所以答案：Ｃ", "C"),  # full-width colon and letter
    ("zh", "答案: B", "B"),
    ("ar", "الإجابة: ب", "B"),  # native letter
    ("ar", "الإجابة: C", "C"),
    ("bn", "উত্তর: গ", "C"),
    ("ne", "उत्तर: घ", "D"),
    ("en", "I cannot decide.", None),
    ("en", "Answer: X", None),  # the format echoed back is not an answer
    ("en", "Answer: All of them", None),
    ("en", "", None),
])
def test_parse_answer(code, text, expected):
    assert prompts.parse_answer(text, load().languages[code]) == expected


def test_a_new_protocol_is_one_entry(monkeypatch):
    """A zero-shot variant of gpt4 registered as one entry: it renders, records its own settings and parses."""
    gpt4 = prompts.PROTOCOLS["gpt4"]
    monkeypatch.setitem(prompts.PROTOCOLS, "gpt4-0", replace(gpt4, name="gpt4-0", shots=0, title="zero-shot GPT-4"))
    proto = prompts.get("gpt4-0")
    shots, question, instructions = fixture("de")
    de = load().languages["de"]
    prefix = proto.prefix("astronomy", de, shots, instructions)
    assert prefix == instructions["gopher"]["astronomy"] + "\n\n"  # the translated line, no shots
    assert proto.suffix(question, de) == gpt4.suffix(question, de)
    assert proto.settings() == gpt4.settings() | {"protocol": "gpt4-0", "shots": 0}
    one = prompts.get("gpt4-0", shots=1).prefix("astronomy", de, shots, instructions)
    assert "Was ist 2 + 2?" in one and "Rote Planet" not in one  # an override works as for any entry
    generate = replace(prompts.PROTOCOLS["cot0"], name="cot0-short", max_tokens=64)
    monkeypatch.setitem(prompts.PROTOCOLS, generate.name, generate)
    assert prompts.get("cot0-short").suffix(question, de).endswith("Antwort: X  (X = A / B / C / D)\n")
    assert prompts.parse_answer("Antwort: A", de) == "A"


@pytest.mark.parametrize("change", [{"instruction_kind": "nope"}, {"instruction_kind": "mmlu5"},
                                    {"scoring": "vote"}, {"option_style": "(A) "}])
def test_an_entry_that_the_code_cannot_render_is_refused(change):
    # mmlu5's line is English only: a translated protocol must name a kind that instructions.json holds
    with pytest.raises(MmluMlError, match="protocol 'bad'"):
        replace(prompts.PROTOCOLS["gpt4"], name="bad", **change)
