"""Locks for runs that share a results folder or a cache, so one never loses or pays again for another's work.

`held(lockfile, what, wait)` takes an exclusive `flock` on `lockfile`. The kernel drops an flock when its process
dies, however it dies, so a killed run never leaves a lock that blocks the next one. The holder writes who it is
(pid, command, since when) into the file, for the message of a run that finds it taken: that run waits, saying so
on stderr (`wait=True`), or stops at once with one line naming the holder (`wait=False`, an `MmluMlError`).
The file is removed when the lock is let go, and so are the folders made for it if nothing else went in (a run
that failed leaves no folder behind); a run that finds the file it locked already removed (a holder let
go between its open and its lock) opens the new one, so two runs never hold two files of one name.

What takes which lock (the same name in every run, so they meet on it):
- evaluate: each language's predictions file (`<lang>.jsonl.lock`), from before it is read until its rows are in
  the tables, not waited for (scoring takes hours: a second run of the language stops, naming the first); the
  tables (`<out>/.scores.lock`) around their read-modify-write, waited for (seconds).
- translate: each (cache, translator, language) and each results folder's translation set, waited for: the second
  run then finds every string in the cache, or in the folder, and pays for nothing again.
- report: its folder, waited for.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shlex
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

from .errors import MmluMlError
from .records import cannot_write

log = logging.getLogger(__name__)


def holder(path: Path) -> str:
    """Who holds the lock at `path`, in words, as the holder wrote it ("another run" before it has)."""
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
        since = datetime.fromtimestamp(float(info["since"])).isoformat(sep=" ", timespec="seconds")
        return f"pid {int(info['pid'])} (`{str(info['command'])[:160]}`, since {since})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another run"


def _me() -> bytes:
    prog = os.path.basename(sys.argv[0]) if sys.argv else ""
    prog = "mmlu-ml" if prog in ("", "mmlu-ml", "cli.py", "__main__.py") else prog
    command = " ".join([prog, *map(shlex.quote, sys.argv[1:])])
    return json.dumps({"pid": os.getpid(), "command": command, "since": time.time()}).encode("utf-8")


def _lock(path: Path, what: str, wait: bool) -> int:
    """An open descriptor of `path` holding its flock (see the module docstring)."""
    said = False
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # a run letting go of its lock removed the empty folder just made
            path.parent.mkdir(parents=True, exist_ok=True)
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if not wait:
                    raise MmluMlError(f"{what}: {holder(path)} is already at it (it holds {path}); wait for it "
                                      "to finish, or use another --out") from None
                if not said:
                    log.warning("waiting for %s to finish %s", holder(path), what)
                    said = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder removed the file we locked: lock the one there now


@contextmanager
def held(path: Path, what: str, wait: bool = True) -> Iterator[None]:
    """Hold the lock `path` (created, with its folder) while the block runs. `what`: what it guards, in words
    ("scoring oracle/gpt4/de in results"), for the messages."""
    path = Path(path)
    made: list[Path] = []  # the folders made for the lock, deepest first: removed with it if nothing else went in
    folder = path.parent
    while not folder.exists():
        made.append(folder)
        folder = folder.parent
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _lock(path, what, wait)
    except OSError as exc:  # a file where the folder goes, a read-only or full disk: the writers' one line
        _remove(made)
        raise cannot_write(path, exc) from None
    except BaseException:
        _remove(made)
        raise
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, _me(), 0)
        yield
    finally:
        try:
            os.unlink(path)  # while still held: a run waiting on this file then sees it gone and opens anew
        except FileNotFoundError:
            pass
        os.close(fd)
        _remove(made)


def _remove(folders: list[Path]) -> None:
    """Remove the empty ones of `folders` (deepest first), so a run that failed leaves no folder behind."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # something else is in it (another run's lock or files): it stays, and so do those above
            return
