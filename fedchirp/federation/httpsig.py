"""HTTP Signatures the way Mastodon does them (draft-cavage-http-signatures-12).

Used by both sides: delivery signs with sign_request(), the inbox and object
fetches check with verify_request(). Algorithms: rsa-sha256, and hs2019 with an
RSA key (which means RSASSA-PKCS1-v1_5 with SHA-256 in practice).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from fedchirp.clock import utcnow

SUPPORTED_ALGORITHMS = ("rsa-sha256", "hs2019")
REQUIRED_ON_POST = ("(request-target)", "host", "digest")
REQUIRED_ON_GET = ("(request-target)", "host")
SIGNED_ON_POST = ("(request-target)", "host", "date", "digest")
SIGNED_ON_GET = ("(request-target)", "host", "date")


class SignatureError(Exception):
    """The request's signature cannot be accepted; str(exc) is the reason."""


@dataclass(frozen=True)
class SignatureParams:
    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes
    created: int | None = None
    expires: int | None = None


_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|(\d+))\s*(?:,|$)')


def parse_signature_header(value: str) -> SignatureParams:
    """Parse a `Signature:` header (or the part after `Authorization: Signature`)."""
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _PARAM.match(value, position)
        if not match:
            raise SignatureError("malformed Signature header")
        params[match.group(1).lower()] = (
            match.group(2) if match.group(2) is not None else match.group(3)
        )
        position = match.end()
    for required in ("keyid", "signature"):
        if not params.get(required):
            raise SignatureError(f"Signature header lacks {required}")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except ValueError as exc:
        raise SignatureError("signature is not valid base64") from exc
    default_headers = "(created)" if algorithm == "hs2019" else "date"
    headers = tuple(params.get("headers", default_headers).lower().split())
    if algorithm != "hs2019" and ({"(created)", "(expires)"} & set(headers)):
        raise SignatureError("(created) and (expires) may only be signed with hs2019")
    return SignatureParams(
        key_id=params["keyid"],
        algorithm=algorithm,
        headers=headers,
        signature=signature,
        created=int(params["created"]) if params.get("created") else None,
        expires=int(params["expires"]) if params.get("expires") else None,
    )


def signature_params_from(headers: Mapping[str, str]) -> SignatureParams:
    """Find and parse the signature of a request; SignatureError if it has none."""
    value = headers.get("Signature")
    if not value:
        authorization = headers.get("Authorization", "")
        if authorization[:10].lower() == "signature ":
            value = authorization[10:]
    if not value:
        raise SignatureError("request is not signed (no Signature header)")
    return parse_signature_header(value)


def digest_header(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def check_digest(value: str | None, body: bytes) -> None:
    """Check a `Digest:` header against the body; only SHA-256 is accepted."""
    if not value:
        raise SignatureError("Digest header is missing")
    expected = hashlib.sha256(body).digest()
    for part in value.split(","):
        name, _, encoded = part.strip().partition("=")
        if name.strip().lower() != "sha-256":
            continue
        try:
            given = base64.b64decode(encoded.strip(), validate=True)
        except ValueError as exc:
            raise SignatureError("Digest is not valid base64") from exc
        if hmac.compare_digest(given, expected):
            return
        raise SignatureError("Digest does not match the body")
    raise SignatureError("Digest has no SHA-256 value")


def signing_string(
    params: SignatureParams, method: str, path_qs: str, headers: Mapping[str, str]
) -> str:
    """The text that was signed, rebuilt from the request as received."""
    lines = []
    for name in params.headers:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {path_qs}")
        elif name == "(created)":
            if params.created is None:
                raise SignatureError("(created) is signed but the signature has no created")
            lines.append(f"(created): {params.created}")
        elif name == "(expires)":
            if params.expires is None:
                raise SignatureError("(expires) is signed but the signature has no expires")
            lines.append(f"(expires): {params.expires}")
        else:
            values = headers.getall(name, None) if hasattr(headers, "getall") else None
            if values is None:
                single = headers.get(name)
                values = [single] if single is not None else []
            if not values:
                raise SignatureError(f"signed header {name!r} is missing")
            lines.append(f"{name}: {', '.join(v.strip() for v in values)}")
    return "\n".join(lines)


def check_signed_headers(params: SignatureParams, method: str) -> None:
    required = REQUIRED_ON_POST if method.upper() == "POST" else REQUIRED_ON_GET
    missing = [name for name in required if name not in params.headers]
    if "date" not in params.headers and "(created)" not in params.headers:
        missing.append("date")
    if missing:
        raise SignatureError(f"signature does not cover {', '.join(missing)}")


def check_freshness(
    params: SignatureParams,
    headers: Mapping[str, str],
    max_age_seconds: float,
    max_future_seconds: float,
) -> None:
    """Reject signatures made too long ago or too far ahead (Mastodon's window: a
    signature lives 5 minutes, or until its expires, plus an hour of clock skew)."""
    now = utcnow().timestamp()
    if "date" in params.headers or params.created is None:
        raw = headers.get("Date")
        if not raw:
            raise SignatureError("Date header is missing")
        signed_at = _http_date_timestamp(raw)
    else:
        signed_at = float(params.created)
    if signed_at < now - max_age_seconds:
        raise SignatureError("signature Date is too old")
    if signed_at > now + max_future_seconds:
        raise SignatureError("signature Date is in the future")
    if params.expires is not None and params.expires + max_future_seconds < now:
        raise SignatureError("signature has expired")


@lru_cache(maxsize=256)
def _http_date_timestamp(raw: str) -> float:
    """Concurrent requests mostly carry the same few Date values: parse each once."""
    try:
        return parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError) as exc:
        raise SignatureError("Date header is not an HTTP date") from exc


@lru_cache(maxsize=1024)
def load_public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("only RSA keys are supported")
    return key


@lru_cache(maxsize=256)
def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def verify_signature(params: SignatureParams, text: str, public_key_pem: str) -> bool:
    try:
        key = load_public_key(public_key_pem)
    except (ValueError, SignatureError):
        return False
    try:
        key.verify(params.signature, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign_request(
    method: str,
    url: str,
    key_id: str,
    private_key_pem: str,
    body: bytes | None = None,
) -> dict[str, str]:
    """Headers (Host, Date, Digest on POST, Signature) that sign a request to url."""
    parts = urlsplit(url)
    path_qs = parts.path or "/"
    if parts.query:
        path_qs += "?" + parts.query
    headers = {"Host": parts.netloc, "Date": format_datetime(utcnow(), usegmt=True)}
    names = SIGNED_ON_GET
    if method.upper() != "GET":
        headers["Digest"] = digest_header(body or b"")
        names = SIGNED_ON_POST
    lowered = {name.lower(): value for name, value in headers.items()}
    text = "\n".join(
        f"(request-target): {method.lower()} {path_qs}"
        if name == "(request-target)"
        else f"{name}: {lowered[name]}"
        for name in names
    )
    signature = load_private_key(private_key_pem).sign(
        text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
    )
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    return headers


def generate_key_pair() -> tuple[str, str]:
    """A new RSA-2048 key pair as (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return private, public_key_pem(private)


def public_key_pem(private_key_pem: str) -> str:
    """The public half of a private key, as SubjectPublicKeyInfo PEM."""
    return (
        load_private_key(private_key_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
