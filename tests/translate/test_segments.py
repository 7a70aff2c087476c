"""Cutting a text that failed whole into lines and sentences, and putting the translations back."""

from __future__ import annotations

import pytest

from mmlu_ml.translate import segments

CODE = ('Consider the following segment of code.\n String word = "conflagration";\n int x = word.indexOf("flag");\n'
        ' What will be the result of executing the above segment?')


@pytest.mark.parametrize("text, pieces", [
    ("Which is it? Mr. T said \"Go home.\" Then he left.", ["Which is it?", "Mr. T said \"Go home.\"", "Then he left."]),
    ("The U.S. President spoke in A.D. 1519. e.g. This stays.", ["The U.S. President spoke in A.D. 1519. e.g. This stays."]),
    ("Let $x = 3. Then$ it holds. Next one.", ["Let $x = 3. Then$ it holds.", "Next one."]),  # never inside a span
    ("\nFirst line\n\nSecond line  ", ["\nFirst line", "Second line  "]),
    ("one", ["one"]),
])
def test_split_at_lines_and_sentences_and_nothing_is_lost(text, pieces):
    got = segments.split(text)
    assert [p.text for p in got] == pieces
    assert "".join(p.text + p.sep for p in got) == text


def test_lines_of_code_are_kept_and_chinese_sentences_close_up():
    got = segments.split(CODE)
    assert [p.kept for p in got] == [False, True, True, False]  # code lines are protected in the whole text only
    translated = [("考虑以下代码片段。", got[0].sep)] + [(p.text, p.sep) for p in got[1:3]] + [("结果是什么？", "")]
    assert segments.join(translated, "Hans") == ('考虑以下代码片段。\n String word = "conflagration";\n'
                                                 ' int x = word.indexOf("flag");\n 结果是什么？')
    two = segments.split("It rains. We stay.")
    assert segments.join([("Il pleut.", two[0].sep), ("Nous restons.", "")], "Latn") == "Il pleut. Nous restons."
    assert segments.join([("下雨了。", two[0].sep), ("我们留下。", "")], "Hans") == "下雨了。我们留下。"
