"""The translate stage end to end: the CLI, the real Azure SDK and the fake_azure Translator on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, assert_one_line_error, cli
from support.fake_azure import FakeAzure, fake_translate, serving
from mmlu_ml import show
from mmlu_ml.core import languages, mmlu, templates
from mmlu_ml.core import protect
from mmlu_ml.translate import stage as translate
from mmlu_ml.translate.translators.azure import AzureTranslator
from mmlu_ml.translate.translators.identity import IdentityTranslator
from mmlu_ml.core.cache import key_of, keys_for
from mmlu_ml.translate.stage import TranslationFailed
from support.stages import run_translate

KEY = "azure-key-7f3b2c91e0d4"
pytestmark = pytest.mark.fake_azure(key=KEY)
TABLE = languages.load()




def azure_env(fake_azure) -> dict:
    return {"AZURE_TRANSLATOR_KEY": KEY, "AZURE_TRANSLATOR_ENDPOINT": fake_azure.endpoint, "MMLU_ML_TRANSLATOR_MODEL": ""}


def expected(text: str, code: str) -> str:
    if protect.is_untranslatable(text):
        return text
    return protect.from_html(fake_translate(protect.to_html(text), code, html=True))


def kwargs(source, tmp_path, **over) -> dict:
    base = dict(source=str(source), languages="sw", subjects="astronomy,virology", splits="dev", limit=None,
                cache_dir=tmp_path / "cache", out=tmp_path / "out", translator="azure", translator_model=None,
                concurrency=2, chars_per_hour=40_000_000, dry_run=False, strict=False)
    return {**base, **over}


def test_cli_azure_sw_cy_dev_complete_then_nothing_sent_again(mmlu_dir, fake_azure, tmp_path):
    args = ["translate", "--source", mmlu_dir, "--translator", "azure", "--languages", "sw,cy", "--splits", "dev",
            "--cache-dir", tmp_path / "cache", "--out", tmp_path / "out"]
    first = cli(*args, env=azure_env(fake_azure), check=True)
    sent = fake_azure.snapshot()
    assert sent["ok"] >= 4 and sent.get("status_400", 0) == 0
    assert "sw (azure)" in first.stderr and re.search(r"^sw\s+dev\s+1,539", first.stdout, re.M)
    source = mmlu.load(str(mmlu_dir), splits=["dev"]).questions
    files = {}
    for lang in ("sw", "cy"):
        folder = tmp_path / "out" / "translations" / "azure" / lang
        rows = [json.loads(line) for line in (folder / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [r["id"] for r in rows] == [q.id for q in source]
        assert [r["answer"] for r in rows] == [q.answer for q in source]
        assert all(r["language"] == lang and r["split"] == "dev" and len(r["choices"]) == 4 for r in rows)
        for r, q in zip(rows, source):
            assert r["question"] == expected(q.question, lang)
            assert r["choices"] == [expected(c, lang) for c in q.choices]
        manifest = json.loads((folder / "dev.manifest.json").read_text())
        assert manifest["counts"]["questions"] == 285 and manifest["counts"]["failed"] == 0
        assert manifest["translator"]["backend"] == "azure" and manifest["source_hash"]
        assert manifest["chars"]["billed"] == manifest["chars"]["sent"] > 100_000
        assert isinstance(manifest["checks"].get("failed"), list)  # checks ran (or say why they did not)
        instructions = json.loads((folder / "instructions.json").read_text())
        assert len(instructions["gopher"]) == len(instructions["cot"]) == 57
        assert instructions["gopher"]["astronomy"].startswith(f"[{lang}] N uvtuyl xabjyrqtrnoyr")
        files[lang] = (folder / "dev.jsonl").read_bytes()
    second = cli(*args, env=azure_env(fake_azure), check=True)
    assert fake_azure.snapshot()["requests"] == sent["requests"]  # the same command again sends nothing
    assert all((tmp_path / "out" / "translations" / "azure" / lang / "dev.jsonl").read_bytes() == files[lang]
               for lang in files)
    # the key is never written anywhere nor printed
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaked == [] and KEY not in first.stdout + first.stderr + second.stdout + second.stderr


def test_cache_key_changes_with_every_part(fake_azure):
    fingerprint = AzureTranslator(None, None).fingerprint()
    base = key_of(fingerprint, "en", "sw", "Hello")
    for part in fingerprint:
        changed = {**fingerprint, part: str(fingerprint[part]) + "-changed"}
        assert key_of(changed, "en", "sw", "Hello") != base, part
    assert len({base, key_of(fingerprint, "en", "cy", "Hello"), key_of(fingerprint, "en", "sw", "Hello "),
                key_of(fingerprint, "de", "sw", "Hello")}) == 4
    texts = ["Hello", 'a "quoted" \\ é 中 \n', ""]
    assert keys_for(fingerprint, "en", "sw", texts) == {t: key_of(fingerprint, "en", "sw", t) for t in texts}
    assert keys_for(fingerprint, "en", "cy", texts) != keys_for(fingerprint, "en", "sw", texts)


def test_cache_keys_carry_the_protected_spans():
    fingerprint = AzureTranslator(None, None).fingerprint()
    spans_of = translate.spans_for(AzureTranslator(None, None))
    texts = ["Hello", "Find x if x^2 = 4.", "Solve $x + 1 = 2$ for x."]
    assert keys_for(fingerprint, "en", "sw", texts, spans_of) == {
        t: key_of(fingerprint, "en", "sw", t, *([list(map(list, protect.intervals(t)))] if protect.spans(t) else []))
        for t in texts}
    assert translate.spans_for(IdentityTranslator()) is None  # a translator that keeps no spans: keys over the text alone


def test_a_change_to_the_protect_rules_resends_only_the_strings_it_moves(mmlu_dir, fake_azure, tmp_path, monkeypatch):
    args = kwargs(mmlu_dir, tmp_path, subjects="abstract_algebra,college_mathematics")
    run_translate(**args)
    first = fake_azure.snapshot()["requests"]
    source = mmlu.load(str(mmlu_dir), ["abstract_algebra", "college_mathematics"], ["dev"])
    moved = next(q.question for q in source.questions if protect.spans(q.question)
                 and not protect.is_untranslatable(q.question))
    rules = protect._intervals

    def new_rules(text):  # a new rule that protects nothing in one question (`moved`) and is the same elsewhere
        return () if text == moved else rules(text)

    monkeypatch.setattr(protect, "_intervals", new_rules)
    run_translate(**args)
    log = fake_azure.request_log
    assert fake_azure.snapshot()["requests"] == first + 1 and log[-1]["elements"] == 1
    assert log[-1]["characters"] == len(moved)  # sent as plain text now, no notranslate markup
    rows = (tmp_path / "out" / "translations" / "azure" / "sw" / "dev.jsonl").read_text(encoding="utf-8")
    assert json.dumps(fake_translate(moved, "sw", html=True), ensure_ascii=False) in rows


def test_another_engine_does_not_reuse_the_cache(tiny_source, fake_azure, tmp_path, monkeypatch):
    run_translate(**kwargs(tiny_source, tmp_path))
    first = fake_azure.snapshot()["requests"]
    run_translate(**kwargs(tiny_source, tmp_path))
    assert fake_azure.snapshot()["requests"] == first
    with FakeAzure(key=KEY) as other:  # another endpoint is another engine: its answers are not ours
        monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", other.endpoint)
        run_translate(**kwargs(tiny_source, tmp_path))
        assert other.snapshot()["requests"] >= 1


def _count_rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]


def test_killed_run_resumes_to_identical_output(mmlu_dir, tmp_path, monkeypatch):
    """dev of all subjects is 3 requests; one at a time, 0.3 s each: SIGKILL once the first is cached."""
    with FakeAzure(key=KEY, latency=0.3) as fake_azure:
        args = ["translate", "--source", mmlu_dir, "--translator", "azure", "--languages", "cy", "--splits", "dev",
                "--concurrency", "1", "--cache-dir", tmp_path / "cache", "--out", tmp_path / "out"]
        proc = subprocess.Popen([sys.executable, "-m", "mmlu_ml.cli", *map(str, args)], cwd=ROOT,
                                env={**os.environ, **azure_env(fake_azure)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while fake_azure.snapshot().get("ok", 0) < 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        time.sleep(0.1)  # the worker commits the batch it got back
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        time.sleep(0.4)  # let the server finish the request that was in flight (its reply is lost)
        assert fake_azure.snapshot()["ok"] < 3
        assert not (tmp_path / "out" / "translations" / "azure" / "cy" / "dev.jsonl").exists()
        cached = _count_rows(tmp_path / "cache" / "translations.sqlite")
        assert cached > 0
        before = fake_azure.snapshot().get("elements", 0)
        cli(*args, env=azure_env(fake_azure), check=True)
        resent = fake_azure.snapshot()["elements"] - before
        total = _count_rows(tmp_path / "cache" / "translations.sqlite")
        assert 0 < resent == total - cached  # nothing that came back before the kill was sent again

        monkeypatch.setenv("AZURE_TRANSLATOR_KEY", KEY)
        monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", fake_azure.endpoint)
        fake_azure.latency = 0
        run_translate(**kwargs(mmlu_dir, tmp_path / "clean", languages="cy", subjects="all", splits="dev"))
    for name in ("dev.jsonl", "instructions.json"):
        a = (tmp_path / "out" / "translations" / "azure" / "cy" / name).read_bytes()
        b = (tmp_path / "clean" / "out" / "translations" / "azure" / "cy" / name).read_bytes()
        assert a == b, name


def test_dry_run_counts_after_dedup_and_cache(tiny_source, fake_azure, tmp_path, capsys):
    run_translate(**kwargs(tiny_source, tmp_path, languages="sw"))
    capsys.readouterr()
    requests = fake_azure.snapshot()["requests"]
    rows = run_translate(**kwargs(tiny_source, tmp_path, languages="en,sw,cy", dry_run=True,
                                  out=tmp_path / "dry"))
    show.dry_run(rows, 20.0)  # the table the command prints
    printed = capsys.readouterr().out
    assert fake_azure.snapshot()["requests"] == requests and not (tmp_path / "dry").exists()
    plan_strings = [s for q in mmlu.load(str(tiny_source), ["astronomy", "virology"], ["dev"]).questions
                    for s in (q.question, *q.choices)]
    distinct = list(dict.fromkeys(plan_strings))  # tiny rows repeat a0..d0 across subjects
    by = {r["language"]: r for r in rows}
    assert by["en"]["chars"] == 0 and by["sw"]["send"] == 0 and by["sw"]["cached"] > 0
    assert by["cy"]["distinct"] == len(distinct) + 2 * 2  # + the gopher and cot lines of two subjects
    tr = AzureTranslator(None, None)
    lines = [line for kind in ("GOPHER", "COT") for line in
             (getattr(templates, kind).format(subject=s) for s in ("astronomy", "virology"))]
    chars = sum(tr.request_chars(t) for t in distinct + lines if not protect.is_untranslatable(t))
    assert by["cy"]["chars"] == chars
    assert f"total: {by['cy']['send']:,} strings, {chars:,} characters" in printed
    assert f"about {chars / 1e6 * 20:,.2f} USD at 20 USD per million" in printed


def test_dry_run_prices_only_a_translator_billed_by_the_character(tiny_source, tmp_path, capsys):
    # the local model costs time, not USD: pricing it at Azure's rate misled (found running the README's dry run)
    rows = run_translate(**kwargs(tiny_source, tmp_path, languages="en,sw", translator="local", dry_run=True))
    show.dry_run(rows, 10.0)
    printed = capsys.readouterr().out
    sw = next(r for r in rows if r["language"] == "sw")
    assert sw["chars"] > 0 and not sw["priced"]
    assert re.search(r"^sw\s+local\s.*\s-$", printed, re.M), printed
    assert "USD at" not in printed and "no price for local: not billed by the character" in printed
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache" / "models").exists()


def test_dry_run_of_the_gpt4_languages_on_mmlu(mmlu_dir, tmp_path):
    proc = cli("translate", "--dry-run", "--translator", "azure", "--languages", "gpt4", "--splits", "dev,test",
               "--source", mmlu_dir, "--cache-dir", tmp_path / "cache", "--out", tmp_path / "out",
               env={"AZURE_TRANSLATOR_KEY": "", "MMLU_ML_TRANSLATOR_MODEL": ""}, check=True)
    total = re.search(r"total: ([\d,]+) strings, ([\d,]+) characters to send over 27 languages; about ([\d,.]+) USD",
                      proc.stdout)
    assert total, proc.stdout[-500:]
    chars = int(total.group(2).replace(",", ""))
    assert 155_000_000 < chars < 170_000_000  # about 160 million after de-duplication, markup included
    assert abs(float(total.group(3).replace(",", "")) - chars / 1e6 * 10) < 0.01
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("extra,env,needles", [
    (["--languages", "sw,xx"], {}, ["unknown language", "'xx'"]),
    (["--subjects", "astrology"], {}, ["unknown subject", "'astrology'"]),
    (["--splits", "train"], {}, ["unknown split", "dev, val, test"]),
    (["--translator", "deepl"], {}, ["unknown translator", "azure"]),
    (["--languages", "en,sw"], {"AZURE_TRANSLATOR_KEY": ""}, ["AZURE_TRANSLATOR_KEY is not set"]),
    ([], {"AZURE_TRANSLATOR_KEY": "wrong-" + KEY}, ["refused the credentials (401)"]),
    ([], {"AZURE_TRANSLATOR_ENDPOINT": "ftp://example.com"}, ["AZURE_TRANSLATOR_ENDPOINT must be an http(s) URL"]),
    (["--translator-model", "gpt-4o"], {}, ["takes no model"]),
])
def test_bad_input_is_one_line_and_exit_2(tiny_source, fake_azure, tmp_path, extra, env, needles):
    proc = cli("translate", "--source", tiny_source, "--translator", "azure", "--languages", "sw", "--splits", "dev",
               "--subjects", "astronomy,virology", "--cache-dir", tmp_path / "cache", "--out", tmp_path / "out",
               *extra, env={**azure_env(fake_azure), **env})
    assert_one_line_error(proc, *needles)
    assert KEY not in proc.stderr + proc.stdout
    assert not (tmp_path / "out").exists()


def test_failed_strings_exit_1_write_nothing_and_rerun_completes(tiny_source, fake_azure, tmp_path):
    fake_azure.retry_after_5xx = True
    fake_azure.script = [503] * 8  # the first request fails for good after azure-core's bounded retries
    with pytest.raises(TranslationFailed) as err:
        run_translate(**kwargs(tiny_source, tmp_path, languages="sw,cy", concurrency=1))
    assert err.value.exit_code == 1 and "sw/dev: 34 strings" in str(err.value) and "astronomy/dev/0" in str(err.value)
    folder = tmp_path / "out" / "translations" / "azure" / "sw"
    assert not (folder / "dev.jsonl").exists() and not (folder / "instructions.json").exists()
    assert (folder.parent / "cy" / "dev.jsonl").exists()  # the other language is complete and written
    sent = fake_azure.snapshot()["elements"]
    run_translate(**kwargs(tiny_source, tmp_path, languages="sw,cy"))
    rows = [json.loads(line) for line in (folder / "dev.jsonl").read_text().splitlines()]
    assert len(rows) == 10 and rows[0]["question"] == expected("astronomy dev question 0?", "sw")
    checked = json.loads((folder / "dev.manifest.json").read_text())["checks"]["instructions"]
    # only what failed was sent again, and the line checks of the split now written
    assert fake_azure.snapshot()["elements"] - sent == 34 + checked["strings_sent"]


def test_english_through_identity_and_strict_checks(tiny_source, fake_azure, tmp_path, monkeypatch):
    monkeypatch.setattr(translate, "check_language", lambda pairs, lang: {"failed": []})
    monkeypatch.setattr(translate.instructions, "check_lines", lambda lines, lang: {})  # the fake's cipher
    run_translate(**kwargs(tiny_source, tmp_path, languages="en,sw", strict=True))  # checks pass: exit 0
    en = tmp_path / "out" / "translations" / "identity" / "en"
    rows = [json.loads(line) for line in (en / "dev.jsonl").read_text().splitlines()]
    assert rows == [q.to_json() for q in mmlu.load(str(tiny_source), ["astronomy", "virology"], ["dev"]).questions]
    assert json.loads((en / "dev.manifest.json").read_text())["translator"]["backend"] == "identity"

    seen = []

    def flag_everything(pairs, lang):
        seen.append((len(pairs), lang.code))
        return {"echoed_english": {"share": 1.0, "ids": [pairs[0][0].id]}, "failed": ["echoed_english"]}

    monkeypatch.setattr(translate, "check_language", flag_everything)
    with pytest.raises(TranslationFailed, match="--strict.*sw/dev: echoed_english"):
        run_translate(**kwargs(tiny_source, tmp_path, languages="en,sw", strict=True))
    assert seen == [(10, "sw")]  # English (identity) is not checked
    manifest = json.loads((tmp_path / "out" / "translations" / "azure" / "sw" / "dev.manifest.json").read_text())
    assert manifest["checks"]["failed"] == ["echoed_english"]  # written before the failing exit
    rows = run_translate(**kwargs(tiny_source, tmp_path, languages="sw"))  # without --strict: reported only
    assert rows[0]["flagged"] == ["echoed_english"]


def test_instructions_add_up_over_runs(tiny_source, tmp_path):
    for subject in ("astronomy", "virology"):
        run_translate(**kwargs(tiny_source, tmp_path, languages="de", subjects=subject, translator="identity"))
    data = json.loads((tmp_path / "out" / "translations" / "identity" / "de" / "instructions.json").read_text())
    assert sorted(data["gopher"]) == sorted(data["cot"]) == ["astronomy", "virology"]
    assert data["gopher"]["virology"].endswith("about virology")


def test_requests_in_flight_reach_but_never_exceed_concurrency(mmlu_dir, tmp_path, monkeypatch):
    # many small requests, each held 50 ms by the server: the stage keeps exactly --concurrency of them open,
    # its spare workers waiting with their batches ready rather than sending a fourth
    monkeypatch.setattr(AzureTranslator, "max_items", 4)
    with serving(monkeypatch, key="k", latency=0.05) as server:
        rows = run_translate(**kwargs(mmlu_dir, tmp_path, concurrency=3))
        stats = server.snapshot()
    assert all(not r["failed"] for r in rows) and stats["ok"] >= 10
    assert stats["peak_in_flight"] == 3, stats


def test_a_results_folder_without_its_cache_is_reused_when_the_fingerprint_matches(tiny_source, fake_azure, tmp_path,
                                                                                   monkeypatch):
    """What a fresh clone of results/published/ does: no cache, the committed translations, a larger --limit."""
    small = run_translate(**kwargs(tiny_source, tmp_path, splits="test", limit=2, languages="sw,cy"))
    first = fake_azure.snapshot()["elements"]
    folder = tmp_path / "out" / "translations" / "azure"
    before = {lang: (folder / lang / "test.jsonl").read_text() for lang in ("sw", "cy")}
    shutil.rmtree(tmp_path / "cache")
    large = run_translate(**kwargs(tiny_source, tmp_path, splits="test", limit=3, languages="sw,cy"))
    # only the strings the third question of each subject adds are sent
    new = sum(r["distinct"] for r in large) - sum(r["distinct"] for r in small)
    assert 0 < fake_azure.snapshot()["elements"] - first == new == sum(r["sent"] for r in large)
    for lang in ("sw", "cy"):
        rows = (folder / lang / "test.jsonl").read_text().splitlines()
        assert len(rows) == 6 and [r for r in rows if json.loads(r)["id"].endswith(("/0", "/1"))] == \
            before[lang].splitlines()
    # another fingerprint (another endpoint is another engine) reuses nothing
    with FakeAzure(key=KEY) as other:
        monkeypatch.setenv("AZURE_TRANSLATOR_ENDPOINT", other.endpoint)
        shutil.rmtree(tmp_path / "cache")
        again = run_translate(**kwargs(tiny_source, tmp_path, splits="test", limit=3, languages="sw"))
        checked = json.loads((folder / "sw" / "test.manifest.json").read_text())["checks"]["instructions"]
        assert checked["strings_sent"] > 0  # the lines' checks asked for back-translations again too
        assert other.snapshot()["elements"] == again[0]["distinct"] + checked["strings_sent"]
        assert again[0]["distinct"] == large[0]["distinct"]


def test_a_split_written_piece_by_piece_keeps_the_cost_of_every_piece(tiny_source, fake_azure, tmp_path):
    """results/published/ grows a language subject by subject, committing each piece: the manifest's effort adds
    up the pieces' time and characters, and a run that takes back part of a split carries that part's share."""
    manifest = tmp_path / "out" / "translations" / "azure" / "sw" / "test.manifest.json"

    def piece(subjects):
        run_translate(**kwargs(tiny_source, tmp_path, splits="test", subjects=subjects))
        return json.loads(manifest.read_text())

    first = piece("astronomy")
    assert first["effort"] == {"duration_s": first["duration_s"], "chars_sent": first["chars"]["sent"]}
    both = piece("astronomy,virology")
    assert 0 < both["chars"]["sent"] < both["effort"]["chars_sent"] == first["chars"]["sent"] + both["chars"]["sent"]
    assert both["effort"]["duration_s"] == pytest.approx(first["duration_s"] + both["duration_s"], abs=1e-3)
    shutil.rmtree(tmp_path / "cache")  # a fresh clone sends nothing and keeps what the pieces cost
    again = piece("astronomy,virology")
    assert again["chars"]["sent"] == 0 and again["effort"]["chars_sent"] == both["effort"]["chars_sent"]
    half = piece("virology")  # half of the questions taken back: half of their cost
    assert half["chars"]["sent"] == 0 and half["effort"]["chars_sent"] == round(both["effort"]["chars_sent"] / 2)


@pytest.mark.parametrize("damage", [b"\xff\xfe not utf-8", b'{"gopher": ["a list"], "cot": 3}', b"[1, 2]"])
def test_a_damaged_instructions_file_is_replaced_not_fatal(tiny_source, tmp_path, damage):
    # the next run reads it back to merge and to reuse lines: whatever it holds, the run writes it whole again
    run_translate(**kwargs(tiny_source, tmp_path, languages="de", subjects="astronomy", translator="identity"))
    path = tmp_path / "out" / "translations" / "identity" / "de" / "instructions.json"
    path.write_bytes(damage)
    run_translate(**kwargs(tiny_source, tmp_path, languages="de", subjects="astronomy,virology", translator="identity"))
    data = json.loads(path.read_text())
    assert sorted(data["gopher"]) == sorted(data["cot"]) == ["astronomy", "virology"]
