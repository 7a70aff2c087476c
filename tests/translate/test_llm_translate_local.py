"""The `local` translator in real llama.cpp, on the 270M Gemma: plumbing only (that model cannot translate)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from conftest import ROOT, write_csv
from mmlu_ml.llama import assets
from mmlu_ml.llama.load import machine
from mmlu_ml.translate import in_context
from mmlu_ml.translate.translators.local import LocalTranslator, _repeating_tail
from mmlu_ml.core.cache import Cache
from mmlu_ml.core.errors import MmluMlError
from mmlu_ml.core.languages import load
from mmlu_ml.translate.llm.prompt import PROMPT_VERSION
from mmlu_ml.translate.stage import TranslationFailed
from support.stages import run_translate

L = load().languages
GEMMA = "gemma-3-270m-q4_k_m"
CHATML = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="module")
def gemma(gemma_path):
    return LocalTranslator(GEMMA, ROOT / "cache")


def test_one_result_per_input_in_order(gemma):
    texts = ["Hello", "Which planet is the largest?", "HCl"]
    out = gemma.translate(texts, L["en"], L["fr"])
    assert len(out) == 3 and out[2] == "HCl"  # a formula never goes to the model
    assert all(o is None or (isinstance(o, str) and o.strip()) for o in out)
    assert any(isinstance(o, str) for o in out[:2])
    assert all(o is None or len(o) < 600 for o in out)  # the length cap holds whatever the model does


def test_fingerprint_and_plain_prompt_for_a_base_model(gemma):
    fp = gemma.fingerprint()
    assert fp["sha256"] == assets.ASSETS[GEMMA].sha256 and fp["prompt"] == PROMPT_VERSION
    assert fp["backend"] == "local" and fp["runtime"].startswith("llama-cpp-python ")
    json.dumps(fp)
    gemma._load()
    prompt, stop = gemma._prompt("What is 2+2?", L["en"], L["de"])
    assert gemma._format is None  # Gemma 270M base ships no chat template: a completion prompt
    assert prompt.endswith("English: What is 2+2?\nGerman:") and "\nEnglish:" in stop
    assert "Welche der folgenden Aussagen" in prompt  # the German few-shot examples


def test_chat_template_path(gemma):
    chat = LocalTranslator(GEMMA, ROOT / "cache", chat_template=CHATML)
    chat._load()
    prompt, stop = chat._prompt("What is 2+2?", L["en"], L["zh"])
    assert prompt.startswith("<|im_start|>system\n") and prompt.endswith("What is 2+2?<|im_end|>\n<|im_start|>assistant\n")
    assert "以上都不是" in prompt and "<|im_end|>" in stop  # the template's turn end stops generation
    [out] = chat.translate(["Good morning"], L["en"], L["zh"])
    assert out is None or out.strip()
    assert chat.fingerprint()["template"] == "override" != gemma.fingerprint()["template"]


FORMULAS = "Divide $11$ by the reciprocal of $1815 \\div 11$."


def _recording(gemma, monkeypatch, prompts: list, change=lambda reply: reply):
    real = gemma._generate

    def generate(llm, prompt, *a):  # a coroutine step, as the real one
        prompts.append(prompt)
        return change((yield from real(llm, prompt, *a)))
    monkeypatch.setattr(gemma, "_generate", generate)


def test_formulas_reach_the_model_as_placeholders_and_come_back_exact(gemma, monkeypatch):
    prompts: list[str] = []
    _recording(gemma, monkeypatch, prompts)
    [out] = gemma.translate([FORMULAS], L["en"], L["fr"])
    assert prompts[0].endswith("English: Divide [F1] by the reciprocal of [F2].\nFrench:")
    assert "$11$" in out and "$1815 \\div 11$" in out and "[F" not in out, out


def test_a_reply_that_loses_a_placeholder_gives_way_to_the_text_as_is(gemma, monkeypatch):
    prompts: list[str] = []
    _recording(gemma, monkeypatch, prompts, change=lambda reply: reply.replace("[F2]", ""))  # a model that drops one
    [out] = gemma.translate([FORMULAS], L["en"], L["fr"])
    assert "[F1]" in prompts[0] and prompts[1].endswith(f"English: {FORMULAS}\nFrench:")
    assert out is None or "[F" not in out


QUESTION = ("Which planet is closest to the Sun?", "Quelle planète est la plus proche du Soleil ?")


def test_options_go_in_context_into_chinese_only():
    tr = LocalTranslator(GEMMA, ROOT / "cache")
    assert tr.option_context(L["zh"]) == 3 and tr.option_context(L["fr"]) == 0 == tr.option_context(L["bn"])
    assert tr.fingerprint()["decoding"]["option_context"] == {"words": 3, "scripts": ["Hans", "Hant"]}


def test_a_short_option_goes_after_its_question_and_its_translation(gemma, monkeypatch):
    prompts: list[str] = []
    _recording(gemma, monkeypatch, prompts)
    gemma.translate([in_context.encode("Mercury", *QUESTION)], L["en"], L["fr"])
    assert prompts[0].endswith(f"English: {QUESTION[0]}\nFrench: {QUESTION[1]}\n\nEnglish: Mercury\nFrench:")
    prompts.clear()
    gemma.translate(["Mercury"], L["en"], L["fr"])
    assert QUESTION[0] not in prompts[0] and prompts[0].endswith("English: Mercury\nFrench:")


def test_an_option_whose_reply_in_context_is_empty_is_translated_alone(gemma, monkeypatch):
    prompts: list[str] = []
    _recording(gemma, monkeypatch, prompts, change=lambda reply: "" if len(prompts) == 1 else reply)
    [out] = gemma.translate([in_context.encode("Mercury", *QUESTION)], L["en"], L["fr"])
    assert QUESTION[1] in prompts[0] and QUESTION[1] not in prompts[1] and prompts[1].endswith("English: Mercury\nFrench:")
    assert out is None or out.strip()


def _planets(tmp_path):
    source = tmp_path / "mmlu"
    write_csv(source / "dev" / "astronomy_dev.csv", [
        [QUESTION[0], "Mercury", "Venus", "Mars", "The largest planet of them all", "A"],
        ["Which metal is liquid at room temperature?", "Mercury", "Iron", "Copper", "Gold", "A"]])
    (tmp_path / "cache" / "models").mkdir(parents=True)
    (tmp_path / "cache" / "models" / f"{GEMMA}.gguf").symlink_to(assets.resolve(GEMMA, ROOT / "cache"))
    return dict(source=str(source), languages="zh", subjects="astronomy", splits="dev", limit=None,
                cache_dir=tmp_path / "cache", out=tmp_path / "out", translator="local", translator_model=GEMMA,
                concurrency=1, chars_per_hour=10**9, dry_run=False, strict=False)


def _record_prompts(monkeypatch) -> list[str]:
    """Every prompt any LocalTranslator sends, in order."""
    prompts: list[str] = []
    real = LocalTranslator._generate

    def generate(self, llm, prompt, *a):
        prompts.append(prompt)
        return (yield from real(self, llm, prompt, *a))
    monkeypatch.setattr(LocalTranslator, "_generate", generate)
    return prompts


def test_stage_sends_short_options_after_their_questions(tmp_path, monkeypatch):
    args = _planets(tmp_path)
    prompts = _record_prompts(monkeypatch)
    run_translate(**args)
    last_turn = [p.rsplit("\n\nEnglish: ", 2) for p in prompts]
    mercury = [turns[-2] for turns in last_turn if turns[-1] == "Mercury\nMandarin:"]
    assert sorted(m.split("\n")[0] for m in mercury) == sorted([QUESTION[0], "Which metal is liquid at room temperature?"])
    long_option = [turns for turns in last_turn if turns[-1].startswith("The largest planet")]
    assert long_option and all("Which" not in turns[-2] for turns in long_option)  # 6 words: sent alone
    manifest = json.loads((tmp_path / "out" / "translations" / "local" / "zh" / "dev.manifest.json").read_text())
    assert manifest["counts"]["distinct"] == 2 + 8 + 2  # questions, options in context (Mercury twice), prompt lines
    strings = manifest["checks"]["instructions"]["strings_sent"]  # what the line checks asked (back-translations)
    assert len(Cache(tmp_path / "cache" / "translations.sqlite", "translations")) == 2 + 8 + 2 + strings
    assert manifest["machines"] == [machine()]  # which build and CPU made it
    rows = [json.loads(line) for line in (tmp_path / "out" / "translations" / "local" / "zh" / "dev.jsonl").read_text().splitlines()]
    assert [r["answer"] for r in rows] == ["A", "A"] and all(len(r["choices"]) == 4 for r in rows)
    prompts.clear()
    manifest_path = tmp_path / "out" / "translations" / "local" / "zh" / "dev.manifest.json"
    manifest_path.write_text(json.dumps({**manifest, "machines": [{"cpu": "the one that made it"}]}))
    run_translate(**args)
    assert prompts == []  # questions and options in context all come from the cache
    # nothing made here: the machine that made what was taken back stands alone
    assert json.loads(manifest_path.read_text())["machines"] == [{"cpu": "the one that made it"}]
    run_translate(**{**args, "languages": "fr"})  # French: every option alone, "Mercury" once
    assert sum(p.endswith("English: Mercury\nFrench:") for p in prompts) == 1
    assert not any(QUESTION[0] in p for p in prompts if p.endswith("English: Mercury\nFrench:"))


def test_stage_sends_glossary_terms_before_the_strings_that_hold_them(tmp_path, monkeypatch):
    args = _planets(tmp_path)
    terms = tmp_path / "terms.yaml"
    terms.write_text("zh:\n  astronomy:\n    planet: 行星\n    metal: 金属\n", encoding="utf-8")
    prompts = _record_prompts(monkeypatch)
    run_translate(**args, glossary=str(terms))

    def asked(text):  # the prompts whose last turn is `text`
        return [p for p in prompts if p.endswith(f"English: {text}\nMandarin:")]
    assert asked(QUESTION[0]) and all(p.endswith(f"English: planet\nMandarin: 行星\n\nEnglish: {QUESTION[0]}\nMandarin:")
                                      for p in asked(QUESTION[0]))
    metal = "Which metal is liquid at room temperature?"
    assert all("English: metal\nMandarin: 金属" in p and "行星" not in p for p in asked(metal))
    long_option = asked("The largest planet of them all")
    assert long_option and all("English: planet\nMandarin: 行星" in p for p in long_option)
    assert all("English: planet\n" not in p for p in asked("Venus") + asked("Mars"))  # no term: no hint
    manifest = json.loads((tmp_path / "out" / "translations" / "local" / "zh" / "dev.manifest.json").read_text())
    assert manifest["glossary"]["sha256"] == hashlib.sha256(terms.read_bytes()).hexdigest()
    rows = [json.loads(line) for line in (tmp_path / "out" / "translations" / "local" / "zh" / "dev.jsonl").read_text().splitlines()]
    assert [r["answer"] for r in rows] == ["A", "A"] and all(len(r["choices"]) == 4 and r["question"] for r in rows)
    prompts.clear()
    run_translate(**args, glossary=str(terms))
    assert prompts == []  # hinted strings are cached under their hints

    def dry_run() -> dict:
        [row] = run_translate(**{**args, "dry_run": True}, glossary=str(terms))
        return row
    assert (dry_run()["send"], dry_run()["chars"]) == (0, 0)  # hinted strings and options in context: all cached
    terms.write_text("zh:\n  astronomy:\n    planet: 星球\n    metal: 金属\n", encoding="utf-8")
    again = [QUESTION[0], "The largest planet of them all", "Mercury", "Venus", "Mars"]  # the question's options wait on it
    assert (dry_run()["send"], dry_run()["chars"]) == (len(again), sum(map(len, again)))
    assert prompts == []
    run_translate(**args, glossary=str(terms))  # an entry changed: only the strings holding it go again
    assert asked(QUESTION[0]) and all("English: planet\nMandarin: 星球\n" in p for p in asked(QUESTION[0]))
    assert not asked(metal) and not any("English: metal\n" in p for p in prompts)
    prompts.clear()
    run_translate(**args, glossary="none")
    assert asked(QUESTION[0]) and not any("English: planet\nMandarin:" in p for p in prompts)
    manifest = json.loads((tmp_path / "out" / "translations" / "local" / "zh" / "dev.manifest.json").read_text())
    assert manifest["glossary"] is None


def test_options_wait_for_their_question(tmp_path, monkeypatch):
    args = _planets(tmp_path)
    real = LocalTranslator._translate_one

    def failing(self, text, *a, **kw):  # the model fails on one question
        if text.startswith("Which metal"):
            return None
        return (yield from real(self, text, *a, **kw))
    monkeypatch.setattr(LocalTranslator, "_translate_one", failing)
    sent: list[str] = []
    real_unit = LocalTranslator._translate_unit
    monkeypatch.setattr(LocalTranslator, "_translate_unit", lambda self, unit, *a: sent.append(unit) or real_unit(self, unit, *a))
    with pytest.raises(TranslationFailed, match="astronomy/dev/1"):
        run_translate(**args)
    assert {u.question for u in sent} == {QUESTION[0]}  # the failed question's options were never sent
    assert not (tmp_path / "out" / "translations" / "local" / "zh" / "dev.jsonl").exists()
    monkeypatch.setattr(LocalTranslator, "_translate_one", real)
    sent.clear()
    run_translate(**args)
    assert {u.question for u in sent} == {"Which metal is liquid at room temperature?"}  # only what was missing
    assert (tmp_path / "out" / "translations" / "local" / "zh" / "dev.jsonl").exists()


def test_loop_guard_stops_a_repeating_model(gemma):
    llm = gemma._load()
    [text] = gemma._generator.run([gemma._generate(llm, "the cat the cat the cat the cat the cat the cat the cat",
                                                   [], 300, 1.0)])
    n = len(llm.tokenize(text.encode(), add_bos=False, special=True))
    assert n <= 70, (n, text)  # stopped once the loop was plain, far below the 300-token cap


def test_streams_come_from_the_environment_and_are_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("MMLU_ML_LLAMA_STREAMS", "2")
    assert LocalTranslator(GEMMA, ROOT / "cache").streams == 2
    monkeypatch.setenv("MMLU_ML_LLAMA_STREAMS", "8")
    with pytest.raises(MmluMlError, match="MMLU_ML_LLAMA_STREAMS must be a whole number from 1 to 7, not '8'"):
        LocalTranslator(GEMMA, ROOT / "cache")


def test_construction_fetches_nothing_and_bad_files_are_named(tmp_path):
    tr = LocalTranslator("qwen2.5-coder-1.5b-instruct-q4_k_m", tmp_path)  # e.g. for --dry-run
    assert tr.fingerprint()["sha256"] == assets.ASSETS["qwen2.5-coder-1.5b-instruct-q4_k_m"].sha256
    assert list(tmp_path.iterdir()) == []  # nothing fetched or joined until a string is translated
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(MmluMlError, match="not a GGUF model file"):
        LocalTranslator(str(bogus), tmp_path)
    with pytest.raises(MmluMlError, match="does not exist"):
        LocalTranslator(str(tmp_path / "missing.gguf"), tmp_path)


def test_repeating_tail_unit():
    assert _repeating_tail(np.array([1, 2, 3] * 5))
    assert not _repeating_tail(np.array(list(range(30))))
    assert not _repeating_tail(np.array([7, 7, 7, 7, 7]))  # short runs of one token (e.g. "___") are allowed
    assert _repeating_tail(np.array([5] * 12))
    varied = np.array(([9] + [1, 2] * 7 + [9] + [1, 2] * 6) * 3)  # copies of unequal length: few distinct tokens
    assert len(varied) >= 64 and _repeating_tail(varied)


def test_stage_on_the_local_translator(tiny_source, tmp_path):
    args = dict(source=str(tiny_source), languages="fr", subjects="astronomy", splits="dev", limit=1,
                cache_dir=tmp_path / "cache", out=tmp_path / "out", translator="local", translator_model=GEMMA,
                concurrency=2, chars_per_hour=10**9, dry_run=False, strict=False)
    (tmp_path / "cache" / "models").mkdir(parents=True)
    (tmp_path / "cache" / "models" / f"{GEMMA}.gguf").symlink_to(assets.resolve(GEMMA, ROOT / "cache"))
    run_translate(**args)
    folder = tmp_path / "out" / "translations" / "local" / "fr"
    manifest = json.loads((folder / "dev.manifest.json").read_text())
    assert manifest["translator"]["backend"] == "local" and manifest["counts"]["questions"] == 1
    run_translate(**args)
    again = json.loads((folder / "dev.manifest.json").read_text())
    assert again["chars"]["sent"] == 0  # all from the cache: the model is not asked again


def test_a_text_that_fails_whole_goes_again_line_by_line(gemma, monkeypatch):
    text = ('Consider the following segment of code.\n String word = "conflagration";\n int x = word.indexOf("flag");\n'
            ' What will be the result of executing the above segment?')
    prompts: list[str] = []
    real = gemma._generate

    def generate(llm, prompt, *a):  # both attempts on the whole text come back far too short
        prompts.append(prompt)
        reply = yield from real(llm, prompt, *a)
        return "?" if "segment of code" in prompt and "executing the above" in prompt else reply
    monkeypatch.setattr(gemma, "_generate", generate)
    [out] = gemma.translate([text], L["en"], L["fr"])
    whole = [p for p in prompts if "segment of code" in p and "executing the above" in p]
    pieces = [p for p in prompts if p not in whole]
    assert len(whole) == 3 and "[F1]" in whole[0]  # with placeholders (lost), as it is, with the task restated
    assert any(p.endswith("English: Consider the following segment of code.\nFrench:") for p in pieces)
    assert any(p.endswith("English: What will be the result of executing the above segment?\nFrench:") for p in pieces)
    assert not any("String word" in p.rsplit("English:", 1)[1] for p in pieces)  # lines of code are never sent alone
    assert out is not None and '\n String word = "conflagration";\n int x = word.indexOf("flag");\n' in out
    assert gemma.fingerprint()["decoding"]["segments"] == "s1"
