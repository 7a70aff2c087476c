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
        self._db.execute("PRAGMA busy_timeout=60000")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {name} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get_many(self, keys: Iterable[str]) -> dict[str, object]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, object] = {}
        with self._lock:
            for i in range(0, len(keys), 500):  # stay under sqlite's bound-variable limit
                chunk = keys[i:i + 500]
                marks = ",".join("?" * len(chunk))
                for k, v in self._db.execute(f"SELECT key, value FROM {self.name} WHERE key IN ({marks})", chunk):
                    out[k] = json.loads(v)
        return out

    def get(self, key: str, default=None):
        return self.get_many([key]).get(key, default)

    def put_many(self, items: Mapping[str, object]) -> None:
        rows = [(k, json.dumps(v, ensure_ascii=False)) for k, v in items.items()]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(f"INSERT OR REPLACE INTO {self.name} (key, value) VALUES (?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def put(self, key: str, value) -> None:
        self.put_many({key: value})

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM {self.name}").fetchone()[0]

    def integrity(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
