"""A content-addressed store on sqlite: key = sha256 of the canonical JSON of everything that changes a value.

Used for translations (never pay twice) and model responses. WAL mode and a busy timeout let two processes
share one file; every `put_many` is one transaction, so a kill loses at most the batch being written.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping

from .errors import MmluMlError

# sqlite's names for a file it cannot write (no space, over the file size limit, read-only, a failed write)
# and for one that is not a database or whose pages are damaged
_UNWRITABLE = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN")
_DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")


class CacheWriteFailed(MmluMlError):
    """The cache file refused a write: nothing more should be sent whose answer could not be kept."""


def key_of(*parts) -> str:
    """Stable sha256 over canonical JSON of `parts` (dicts sorted, no whitespace, unicode kept)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def keys_for(fingerprint: dict, source: str, target: str, texts, spans_of=None) -> dict[str, str]:
    """`key_of(fingerprint, source, target, text)` for each text, without re-encoding the fingerprint for every
    string: the canonical JSON of the list is its encoded head, then the text (tests compare the two).
    `spans_of(text)`, where given and not empty, goes in after the text: `key_of(..., text, spans)`."""
    prefix = json.dumps([fingerprint, source, target], sort_keys=True, ensure_ascii=False,
                        separators=(",", ":"))[:-1] + ","
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    keys = {}
    for t in texts:
        extra = spans_of(t) if spans_of else None
        tail = "," + encode(extra) + "]" if extra else "]"
        keys[t] = hashlib.sha256((prefix + encode(t) + tail).encode("utf-8")).hexdigest()
    return keys


def lookup(db: "Cache", keys: dict[str, str], texts: list[str]) -> dict[str, Any]:
    """The cached value of each text of `texts` that has one, by text (`keys`: text -> key). Any: a JSON value,
    what the caller stored under those keys."""
    found = db.get_many(keys[t] for t in texts)
    return {t: found[keys[t]] for t in texts if keys[t] in found}


class Cache:
    """key -> JSON value, in table `name` of the sqlite file at `path`. Thread-safe."""

    def __init__(self, path: Path, name: str = "kv"):
        if not name.isidentifier():
            raise ValueError(f"bad table name {name!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.name = name
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA busy_timeout=60000")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {name} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise self._error(exc) from None

    def _error(self, exc: sqlite3.DatabaseError) -> Exception:
        """A one-line MmluMlError for a file that cannot be written or read as a database; `exc` itself for the
        rest (a bug, not the user's to fix)."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        reason = " ".join(str(exc).split())
        if name.startswith(_DAMAGED) or "not a database" in reason or "malformed" in reason:
            return MmluMlError(f"the cache {self.path} is not a readable sqlite database ({reason}); move it away "
                               "or delete it and run again: the results folder keeps what was already done")
        if name.startswith(_UNWRITABLE) or "disk is full" in reason or "readonly" in reason:
            return CacheWriteFailed(f"cannot write the cache {self.path} ({_os_reason(self.path, reason)}); "
                                    "free space (or make it writable) and run again: what was cached is kept")
        return exc

    def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, object] = {}
        with self._lock:
            try:
                for i in range(0, len(keys), 500):  # stay under sqlite's bound-variable limit
                    chunk = keys[i:i + 500]
                    marks = ",".join("?" * len(chunk))
                    for k, v in self._db.execute(f"SELECT key, value FROM {self.name} WHERE key IN ({marks})",
                                                 chunk):
                        out[k] = json.loads(v)
            except sqlite3.DatabaseError as exc:
                raise self._error(exc) from None
        return out

    def get(self, key: str, default=None):
        return self.get_many([key]).get(key, default)

    def put_many(self, items: Mapping[str, object]) -> None:
        rows = [(k, json.dumps(v, ensure_ascii=False)) for k, v in items.items()]
        if not rows:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany(f"INSERT OR REPLACE INTO {self.name} (key, value) VALUES (?, ?)", rows)
                    self._db.execute("COMMIT")
                except BaseException:
                    # sqlite may already have rolled back (a full disk does): rolling back again would raise
                    # "no transaction is active" and hide the real error
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.DatabaseError as exc:
                raise self._error(exc) from None

    def put(self, key: str, value) -> None:
        self.put_many({key: value})

    def __len__(self) -> int:
        with self._lock:
            try:
                return self._db.execute(f"SELECT COUNT(*) FROM {self.name}").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise self._error(exc) from None

    def integrity(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _os_reason(path: Path, reason: str) -> str:
    """What the OS would say about writing next to `path`, when sqlite's own words hide it: a file over the
    process's size limit, no space left, a read-only place; else sqlite's reason."""
    import errno
    import os
    import resource

    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    sizes = [p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()]
    if limit != resource.RLIM_INFINITY and sizes and max(sizes) >= limit - 65536:
        return f"{os.strerror(errno.EFBIG).lower()}: the limit is {limit:,} bytes"
    try:
        free = os.statvfs(path.parent)
    except OSError:
        return reason
    if free.f_bavail * free.f_frsize < 1 << 20:
        return os.strerror(errno.ENOSPC).lower()
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"{os.strerror(errno.EROFS).lower()} or not writable"
    return reason
