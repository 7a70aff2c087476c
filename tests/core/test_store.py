"""Foundation: the sqlite cache and the crash-safe JSONL writers."""

from __future__ import annotations

import multiprocessing

from mmlu_ml.core.cache import Cache, key_of
from mmlu_ml.core.records import Appender, read_json_dict, read_jsonl, write_json, write_jsonl


def test_key_is_canonical():
    assert key_of({"a": 1, "b": [1, 2]}, "x") == key_of({"b": [1, 2], "a": 1}, "x")
    assert key_of({"a": 1}, "x") != key_of({"a": 1}, "y")


def test_cache_roundtrip(tmp_path):
    c = Cache(tmp_path / "c.sqlite", "t")
    c.put_many({"k1": {"text": "Grüße"}, "k2": [1, 2]})
    assert c.get_many(["k1", "k2", "k3"]) == {"k1": {"text": "Grüße"}, "k2": [1, 2]}
    assert len(c) == 2 and c.integrity() == "ok"


def _writer(path, start):
    c = Cache(path, "t")
    for i in range(start, start + 200, 10):
        c.put_many({f"k{j}": j for j in range(i, i + 10)})


def test_two_processes_share_one_cache(tmp_path):
    path = tmp_path / "shared.sqlite"
    Cache(path, "t").close()
    procs = [multiprocessing.get_context("spawn").Process(target=_writer, args=(path, s)) for s in (0, 200)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    c = Cache(path, "t")
    assert len(c) == 400 and c.integrity() == "ok" and c.get("k399") == 399


def test_appender_cuts_torn_tail(tmp_path):
    path = tmp_path / "p.jsonl"
    write_jsonl(path, [{"id": 1}, {"id": 2}])
    with open(path, "a") as f:
        f.write('{"id": 3, "tor')  # a writer killed mid-line
    assert [r["id"] for r in read_jsonl(path)] == [1, 2]
    with Appender(path) as app:
        app.append({"id": 3})
    assert [r["id"] for r in read_jsonl(path)] == [1, 2, 3]


def test_a_manifest_that_cannot_be_read_reads_as_empty(tmp_path):
    path = tmp_path / "m.json"
    assert read_json_dict(path) == {}  # none yet
    write_json(path, {"a": {"n": 1}})
    assert read_json_dict(path) == {"a": {"n": 1}}
    for broken in (b'{"a": ', b"[1, 2]", b"\xff\xfe"):  # cut short, not an object, not UTF-8
        path.write_bytes(broken)
        assert read_json_dict(path) == {}
