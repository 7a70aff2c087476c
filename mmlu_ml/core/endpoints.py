"""What every network backend asks of a URL: is it this machine, and what of it may be written down."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .errors import MmluMlError


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
