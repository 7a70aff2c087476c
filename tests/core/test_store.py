"""Foundation: the sqlite cache and the crash-safe JSONL writers."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmlu_ml.core import records
from mmlu_ml.core.cache import Cache, key_of
from mmlu_ml.core.errors import MmluMlError
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


# ---- hostile conditions: torn multi-byte tails, lines that are not objects, writes the system refuses ----

def test_a_tail_torn_inside_a_multibyte_character_is_cut_not_fatal(tmp_path):
    path = tmp_path / "p.jsonl"
    write_jsonl(path, [{"id": 1, "q": "été"}, {"id": 2, "q": "中文"}])
    line = ('{"id": 3, "q": "中文"}').encode("utf-8")
    with open(path, "ab") as f:
        f.write(line[:line.index("文".encode()) + 1])  # killed inside the 3 bytes of a CJK character
    assert [r["id"] for r in read_jsonl(path)] == [1, 2]
    with Appender(path) as app:
        app.append({"id": 3, "q": "é"})
    assert [r["id"] for r in read_jsonl(path)] == [1, 2, 3]


def test_a_torn_or_foreign_middle_line_is_one_error_naming_the_line(tmp_path):
    path = tmp_path / "p.jsonl"
    for middle, needle in ((b'{"q": "\xc3"}', "p.jsonl:2: not UTF-8"), (b"[1, 2]", "p.jsonl:2: not a JSON object"),
                           (b'"x"', "p.jsonl:2: not a JSON object")):
        path.write_bytes(b'{"id": 1}\n' + middle + b'\n{"id": 3}\n')
        with pytest.raises(MmluMlError, match=needle):
            list(read_jsonl(path))


_FSIZE = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
from mmlu_ml.core.errors import MmluMlError
from mmlu_ml.core.records import Appender, write_json
try:
    if sys.argv[2] == "atomic":
        write_json(sys.argv[1], {"x": "y" * 10000})
    else:
        with Appender(sys.argv[1]) as app:
            for i in range(100):
                app.append({"id": i, "x": "y" * 100})
except MmluMlError as exc:
    print(exc)
"""


@pytest.mark.parametrize("how", ["atomic", "append"])
def test_a_file_over_the_size_limit_is_one_line_naming_it(tmp_path, how):
    target = tmp_path / "out" / "big.json"
    proc = subprocess.run([sys.executable, "-c", _FSIZE, str(target), how], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert proc.stdout.startswith(f"cannot write {target} (File too large); "), proc.stdout
    assert len(proc.stdout.strip().splitlines()) == 1
    assert how == "append" or not target.exists()  # nothing half-written in its place
    assert not list(target.parent.glob(".*.tmp"))


def test_a_folder_that_cannot_be_written_is_one_line(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file where a folder is expected", encoding="utf-8")
    for write in (lambda p: write_json(p, {"a": 1}), lambda p: Appender(p)):
        with pytest.raises(MmluMlError, match=rf"cannot write {blocker}/x.json \(.*\); "):
            write(blocker / "x.json")
    with pytest.raises(MmluMlError, match=r"cannot write /proc/.*\(.*\); "):  # refused even to root
        write_json(Path("/proc/mmlu-ml-test/x.json"), {"a": 1})
    if Path("/sys/kernel").is_dir():  # sysfs makes no files, whoever asks: EACCES (or EROFS) as root too
        with pytest.raises(MmluMlError, match=r"cannot write /sys/mmlu-ml-test.json \((Permission denied|Read-only)"):
            write_json(Path("/sys/mmlu-ml-test.json"), {"a": 1})


def test_a_full_disk_is_one_line_and_leaves_the_old_file(tmp_path, monkeypatch):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    path = tmp_path / "m.json"
    write_json(path, {"old": True})
    tmp = tmp_path / ".m.json.x.tmp"

    def full(dir, prefix, suffix):  # the temporary file lands on /dev/full: every write there is ENOSPC
        tmp.touch()
        return os.open("/dev/full", os.O_WRONLY), str(tmp)

    monkeypatch.setattr(records.tempfile, "mkstemp", full)
    with pytest.raises(MmluMlError, match=rf"cannot write {path} \(No space left on device\); free space"):
        write_json(path, {"new": "x" * 100_000})
    assert read_json_dict(path) == {"old": True} and not tmp.exists()
