"""Reliability: bad input beyond the foundation's cases - one line naming the fix, exit code 2, nothing written."""

from __future__ import annotations

import json

from conftest import assert_one_line_error, cli, write_csv


def test_unknown_protocol_backend_and_option_values(tiny_source, tmp_path):
    out = tmp_path / "out"
    assert_one_line_error(cli("evaluate", "--protocol", "gpt5", "--source", tiny_source, "--out", out),
                          "--protocol", "'gpt4', 'mmlu5', 'cot0'", "--help")
    assert_one_line_error(cli("evaluate", "--model", "vllm:foo", "--source", tiny_source, "--languages", "en",
                              "--subjects", "astronomy", "--out", out), "vllm")
    assert_one_line_error(cli("translate", "--translator", "deepl", "--source", tiny_source, "--languages", "de",
                              "--out", out), "unknown translator 'deepl'", "azure")
    assert_one_line_error(cli("translate", "--concurrency", "0", "--source", tiny_source), "--concurrency")
    assert_one_line_error(cli("frobnicate"), "No such command")
    assert not out.exists()


def test_model_file_that_is_not_gguf(tiny_source, tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a model")
    proc = cli("evaluate", "--model", f"llamacpp:{fake}", "--source", tiny_source, "--languages", "en",
               "--subjects", "astronomy", "--cache-dir", tmp_path / "cache", "--out", tmp_path / "out")
    assert_one_line_error(proc, "not a GGUF model file", str(fake))
    assert not (tmp_path / "out").exists()


def test_unknown_model_name(tiny_source, tmp_path):
    proc = cli("evaluate", "--model", "llamacpp:llama-99b", "--source", tiny_source, "--languages", "en",
               "--subjects", "astronomy,virology",
               "--cache-dir", tmp_path / "cache", "--out", tmp_path / "out")
    assert_one_line_error(proc, "unknown model 'llama-99b'", "qwen2.5-coder-1.5b-instruct-q4_k_m")


def test_translation_whose_ids_do_not_match_the_source(tiny_source, tmp_path):
    out = tmp_path / "out"
    cli("translate", "--translator", "identity", "--languages", "de", "--splits", "dev,test", "--source", tiny_source,
        "--subjects", "astronomy,virology", "--cache-dir", tmp_path / "cache", "--out", out, check=True)
    test_file = out / "translations" / "identity" / "de" / "test.jsonl"
    rows = [json.loads(line) for line in test_file.read_text(encoding="utf-8").splitlines()]
    rows[1]["id"] = rows[1]["id"].replace("/1", "/17")
    test_file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    proc = cli("evaluate", "--model", "llamacpp:gemma-3-270m-q4_k_m", "--languages", "de", "--source", tiny_source,
               "--subjects", "astronomy,virology", "--cache-dir", tmp_path / "cache", "--out", out)
    assert_one_line_error(proc, "mmlu-ml translate")
    assert not (out / "predictions").exists()


def test_names_cannot_escape_results(tiny_source, tmp_path):
    from mmlu_ml.core.paths import predictions_file, translations_dir
    for name in ("../../etc", "/abs/path", "a/../../b"):
        p = predictions_file(tmp_path, name, "gpt4", "de").resolve()
        assert str(p).startswith(str(tmp_path.resolve())), p
        t = translations_dir(tmp_path, name, name).resolve()
        assert str(t).startswith(str(tmp_path.resolve())), t


def test_duplicate_csv_row_counts_as_row(tiny_source):
    """Two identical questions keep two ids: the index is the CSV row, never a content hash."""
    write_csv(tiny_source / "test" / "astronomy_test.csv", [["q", "a", "b", "c", "d", "A"]] * 2)
    proc = cli("data", "--source", tiny_source, "--subjects", "astronomy", "--splits", "test", check=True)
    assert "astronomy" in proc.stdout and " 2" in proc.stdout
