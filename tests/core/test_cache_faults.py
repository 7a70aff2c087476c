"""core/cache.py under hostile conditions: a file that is not sqlite, truncated or with damaged pages, and a write
that fails (over the file size limit): one line naming the file and the fix, never a traceback or sqlite's
"cannot rollback - no transaction is active"."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT, assert_one_line_error, cli
from mmlu_ml.core.cache import Cache, CacheWriteFailed
from mmlu_ml.core.errors import MmluMlError


def _filled(path, rows: int = 3000) -> None:
    db = Cache(path, "translations")
    db.put_many({f"key-{i}": f"value {i} " * 20 for i in range(rows)})
    db.close()  # the last connection's close checkpoints the WAL into the file


def _damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "not_sqlite":
        path.write_text("this is a CSV, not a cache\n" * 100)
    elif how == "truncated":
        path.write_bytes(data[:100])
    else:  # pages past the first overwritten with garbage
        path.write_bytes(data[:4096] + b"\xa5" * (len(data) - 4096))


@pytest.mark.parametrize("how", ["not_sqlite", "truncated", "damaged_pages"])
def test_a_cache_that_is_not_sqlite_is_one_line_naming_the_file_and_the_fix(tmp_path, how):
    path = tmp_path / "translations.sqlite"
    _filled(path)
    _damage(path, how)
    with pytest.raises(MmluMlError, match="translations.sqlite is not a readable sqlite database.*delete it"):
        db = Cache(path, "translations")
        db.get_many([f"key-{i}" for i in range(3000)])
        db.put_many({"new": "value"})


def test_a_damaged_cache_through_the_cli_is_exit_2(tiny_source, tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "translations.sqlite").write_text("not a database at all\n" * 50)
    proc = cli("translate", "--translator", "identity", "--languages", "sw", "--splits", "dev", "--source",
               tiny_source, "--subjects", "astronomy", "--cache-dir", tmp_path / "cache", "--out", tmp_path / "out")
    assert_one_line_error(proc, "translations.sqlite", "is not a readable sqlite database", "move it away")


def test_a_write_over_the_file_size_limit_names_the_os_error(tmp_path):
    path = tmp_path / "c.sqlite"
    script = f"""
import resource
from mmlu_ml.core.cache import Cache, CacheWriteFailed
db = Cache({str(path)!r})
resource.setrlimit(resource.RLIMIT_FSIZE, (128 * 1024, resource.RLIM_INFINITY))
try:
    for i in range(100):
        db.put_many({{f"k{{i}}-{{j}}": "x" * 200 for j in range(50)}})
except CacheWriteFailed as exc:
    print(exc, "|", len(db))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "cannot write the cache" in out.stdout and "file too large" in out.stdout, out.stdout + out.stderr
    assert str(path) in out.stdout and int(out.stdout.split("|")[1]) > 0  # what was committed is kept
    assert issubclass(CacheWriteFailed, MmluMlError)
