"""A Web Push service on 127.0.0.1 for the tests, and the app's side of a subscription.

The service records every message and answers with a status the test chooses. The
subscriber holds what a real app keeps: its ECDH P-256 key pair and auth secret
(RFC 8291), made by Mastodon.py, and decrypts what the service received: aes128gcm
(RFC 8291) with http_ece, or Mastodon's older aesgcm with Mastodon.py's own
push_subscription_decrypt_push. The VAPID header (RFC 8292) is checked with
cryptography against the instance's public key, not with the library that signed it.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from mastodon import Mastodon


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """POST /push/<name> records the message and answers `status`."""

    status: int = 201
    received: list[Received] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    async def start(self) -> PushService:
        app = web.Application()
        app.router.add_post("/push/{name}", self._receive)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(Received(request.path, dict(request.headers), body))
        return web.Response(status=self.status)


class Subscriber:
    """An app's keys for one subscription, and decryption of what was pushed to it."""

    def __init__(self, api: Mastodon) -> None:
        self.api = api
        self.private, self.public = api.push_subscription_generate_keys()

    @property
    def p256dh(self) -> str:
        return base64.urlsafe_b64encode(self.public["pubkey"]).decode().rstrip("=")

    @property
    def auth(self) -> str:
        return base64.urlsafe_b64encode(self.public["auth"]).decode().rstrip("=")

    def decrypt(self, message: Received) -> dict[str, Any]:
        encoding = message.headers["Content-Encoding"]
        if encoding == "aesgcm":
            decrypted = self.api.push_subscription_decrypt_push(
                message.body,
                self.private,
                message.headers["Encryption"],
                message.headers["Crypto-Key"],
            )
            return dict(decrypted)
        assert encoding == "aes128gcm", encoding
        key = ec.derive_private_key(self.private["privkey"], ec.SECP256R1())
        plain = http_ece.decrypt(
            message.body, private_key=key, auth_secret=self.private["auth"], version="aes128gcm"
        )
        return json.loads(plain)


def check_vapid(message: Received, server_key: str, audience: str) -> dict[str, Any]:
    """Check the VAPID JWT: signed (ES256) by server_key, for this push service, not
    expired; return its claims. Both Mastodon's forms: `vapid t=..,k=..` (RFC 8292)
    and the older `WebPush <jwt>` with the key in Crypto-Key's p256ecdsa."""
    authorization = message.headers["Authorization"]
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() == "vapid":
        parts = dict(part.strip().split("=", 1) for part in rest.split(","))
        token, key = parts["t"], parts["k"]
    else:
        assert scheme == "WebPush", authorization
        token = rest.strip()
        crypto_key = dict(
            part.strip().split("=", 1) for part in message.headers["Crypto-Key"].split(";")
        )
        key = crypto_key["p256ecdsa"]
    assert key.rstrip("=") == server_key
    signing_input, _, signature = token.rpartition(".")
    raw = b64url_decode(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    public.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    header, claims = (json.loads(b64url_decode(part)) for part in signing_input.split("."))
    assert header["alg"] == "ES256"
    assert claims["aud"] == audience
    assert claims["exp"] > time.time()
    assert claims["sub"]
    return claims
