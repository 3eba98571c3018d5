"""Password hashing with scrypt from the standard library (no extra dependency)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# n=2^14, r=8, p=1: about 16 MiB and tens of milliseconds per hash (OWASP's scrypt floor
# is n=2^17 with r=8, p=1; we stay lower so one small machine can take many logins).
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encode = base64.urlsafe_b64encode
    return f"scrypt${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    decode = base64.urlsafe_b64decode
    expected = decode(digest)
    actual = hashlib.scrypt(
        password.encode("utf-8"),
        salt=decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(expected),
    )
    return hmac.compare_digest(actual, expected)
