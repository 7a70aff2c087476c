"""What every network backend asks of a URL: is it this machine, what of it may be written down, and the one
warning for plain http to another machine."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from urllib.parse import urlsplit

from .errors import MmluMlError

log = logging.getLogger(__name__)
_warned: set[str] = set()
_warned_lock = threading.Lock()


def is_loopback(host: str | None) -> bool:
    """True for localhost and 127.0.0.0/8 or ::1: plain http there never leaves the machine."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def public_url(url: str) -> str:
    """scheme://host[:port]/path: no user, password, query or fragment (they may hold credentials)."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        raise MmluMlError(f"the port of {parts.hostname}'s URL is not a number; pass a URL like "
                          "http://127.0.0.1:8000/v1") from None
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path.rstrip('/')}"


def warn_plain_http(url: str, who: str) -> None:
    """Warn that `url` (plain http, not loopback) sends requests and the key unencrypted: once per URL and
    process, as every thread and backend that opens the same server would repeat it. Logged, so a caller that
    configures logging decides where it goes (with none, Python prints warnings to stderr)."""
    public = public_url(url)
    with _warned_lock:
        if public in _warned:
            return
        _warned.add(public)
    log.warning("%s: %s is plain http to another machine: requests and the key travel unencrypted; use https",
                who, public)


def unresolved(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) says a host name did not resolve: a configuration error, not load."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, socket.gaierror) and e.errno != socket.EAI_AGAIN:
            return True
        if "NameResolutionError" in type(e).__name__ or "Name or service not known" in str(e) \
                or "nodename nor servname" in str(e):
            return True
        todo += [e.__cause__, e.__context__, getattr(e, "inner_exception", None)]
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
    return False
