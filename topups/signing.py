"""Partner callback signatures: ``X-Erial-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``.

The timestamp bounds replays to a window; the HMAC covers the exact bytes received, so any change to the
body, or a body moved to another timestamp, fails.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """The signature header is missing, malformed, wrong or outside the time window."""


def signature(body: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(body, secret, timestamp)}"


def verify(header: str | None, body: bytes, secret: str, *, now: float | None = None) -> int:
    """Check the header against the body; return its timestamp or raise ``BadSignature`` saying why."""
    if not header:
        raise BadSignature("missing X-Erial-Signature header")
    pairs = [item.strip().split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [value for key, value in pairs if key == "t"]
    candidates = [value for key, value in pairs if key == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        raise BadSignature("malformed signature header: needs one t=<unix seconds>")
    if not candidates:
        raise BadSignature("malformed signature header: no v1= signature")
    timestamp = int(stamps[0])
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise BadSignature(f"timestamp is {int(now - timestamp)} s away from now (at most {TOLERANCE_SECONDS} s)")
    expected = signature(body, secret, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise BadSignature("signature does not match the body")
    return timestamp
