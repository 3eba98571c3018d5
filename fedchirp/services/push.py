"""Web Push subscriptions (Mastodon's /api/v1/push/subscription) and the instance's
VAPID key.

A subscription belongs to one OAuth token, as in Mastodon: an app signed in twice
has two, and revoking a token ends its subscription. It names the push service's
endpoint, the app's ECDH public key (p256dh) and auth secret (RFC 8291), the alerts
the app wants (one flag per notification type) and a policy saying whose actions
may push at all. The pushes themselves are sent by jobs (services/push_delivery.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fedchirp.federation.http import FetchError
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound
from fedchirp.services.oauth import token_hash
from fedchirp.store import Store
from fedchirp.store.push import PushSubscription

VAPID_KEY_SETTING = "vapid_private_key"
ALERTS = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
)
POLICIES = ("all", "followed", "follower", "none")
P256DH_BYTES = 65  # an uncompressed P-256 point
AUTH_BYTES = 16
MAX_ENDPOINT_CHARS = 2048


@dataclass(frozen=True)
class SubscriptionKeys:
    endpoint: str
    p256dh: str
    auth: str


# -- the instance's VAPID key (RFC 8292) ---------------------------------------------


# The key never changes once made: each process reads it once per store.
_KEYS: weakref.WeakKeyDictionary[Store, ec.EllipticCurvePrivateKey] = weakref.WeakKeyDictionary()


async def vapid_key(ctx: Context) -> ec.EllipticCurvePrivateKey:
    """The instance's VAPID signing key (P-256), made on first use and kept in the
    settings table, so every process (and every restart) signs with the same one."""
    known = _KEYS.get(ctx.store)
    if known is not None:
        return known
    pem = await ctx.store.get_setting(VAPID_KEY_SETTING)
    if pem is None:
        fresh = ec.generate_private_key(ec.SECP256R1())
        pem = await ctx.store.set_setting_if_absent(
            VAPID_KEY_SETTING,
            fresh.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode("ascii"),
        )
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    _KEYS[ctx.store] = key
    return key


def public_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    """A VAPID public key as apps pass it to the push service (applicationServerKey):
    the point, uncompressed, in unpadded base64url, as Mastodon's instance gives it."""
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


async def vapid_public_key(ctx: Context) -> str:
    return public_key_text(await vapid_key(ctx))


# -- subscriptions -------------------------------------------------------------------


async def _token_id(ctx: Context, token: str) -> int:
    found = await ctx.store.get_token(token_hash(token))
    if found is None:  # the API edge checked it a moment ago
        raise NotFound("the access token is no longer valid")
    return found.id


async def subscribe(
    ctx: Context,
    account_id: int,
    token: str,
    keys: SubscriptionKeys,
    alerts: Mapping[str, Any],
    policy: str | None,
    standard: bool,
) -> PushSubscription:
    """Create the token's subscription, replacing any it had."""
    _check_endpoint(ctx, keys.endpoint)
    _check_key(keys.p256dh, P256DH_BYTES, "subscription[keys][p256dh]", point=True)
    _check_key(keys.auth, AUTH_BYTES, "subscription[keys][auth]")
    return await ctx.store.replace_push_subscription(
        {
            "token_id": await _token_id(ctx, token),
            "account_id": account_id,
            "access_token": token,
            "endpoint": keys.endpoint,
            "p256dh": keys.p256dh,
            "auth": keys.auth,
            "alerts": json.dumps(_alerts(alerts, {})),
            "policy": _policy(policy, "all"),
            "standard": standard,
        }
    )


async def subscription(ctx: Context, token: str) -> PushSubscription:
    found = await ctx.store.push_subscription_of_token(await _token_id(ctx, token))
    if found is None:
        raise NotFound("Record not found")
    return found


async def update(
    ctx: Context, token: str, alerts: Mapping[str, Any], policy: str | None
) -> PushSubscription:
    """Change what the token's subscription pushes (its keys stay)."""
    current = await subscription(ctx, token)
    changed = await ctx.store.update_push_subscription(
        current.token_id,
        json.dumps(_alerts(alerts, json.loads(current.alerts))),
        _policy(policy, current.policy),
    )
    if changed is None:
        raise NotFound("Record not found")
    return changed


async def unsubscribe(ctx: Context, token: str) -> None:
    await ctx.store.delete_push_subscription(await _token_id(ctx, token))


def alerts_of(found: PushSubscription) -> dict[str, bool]:
    stored = json.loads(found.alerts)
    return {name: bool(stored.get(name, False)) for name in ALERTS}


# -- checks --------------------------------------------------------------------------


def _check_endpoint(ctx: Context, endpoint: str) -> None:
    """https only (http when federation.allow_http is set, as on loopback in tests); the
    address is checked again by the SSRF guard when a push is sent."""
    if not endpoint or len(endpoint) > MAX_ENDPOINT_CHARS:
        raise Invalid("subscription[endpoint] must be a URL")
    try:
        ctx.http.check_url(endpoint)
    except FetchError as exc:
        raise Invalid(f"subscription[endpoint] is not allowed: {exc}") from exc


def decode_key(text: str) -> bytes:
    """Base64 in either alphabet, padded or not (apps send both)."""
    cleaned = text.strip().replace("-", "+").replace("_", "/").rstrip("=")
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)


def _check_key(text: str, size: int, name: str, point: bool = False) -> None:
    try:
        raw = decode_key(text)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(f"{name} is not base64") from exc
    if len(raw) != size:
        raise Invalid(f"{name} must be {size} bytes, not {len(raw)}")
    if point:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError as exc:
            raise Invalid(f"{name} is not a P-256 public key") from exc


def _alerts(given: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, bool]:
    """The alerts after a change: those given replace the current ones; unknown names
    are ignored, as Mastodon ignores them."""
    alerts = {name: bool(current.get(name, False)) for name in ALERTS}
    for name, value in given.items():
        if name in alerts:
            alerts[name] = _truth(value, f"data[alerts][{name}]")
    return alerts


def _truth(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "t", "on", "yes"):
        return True
    if text in ("0", "false", "f", "off", "no", ""):
        return False
    raise Invalid(f"{name} must be a boolean")


def _policy(given: str | None, current: str) -> str:
    if given is None or given == "":
        return current
    if given not in POLICIES:
        raise Invalid(f"data[policy] must be one of {', '.join(POLICIES)}")
    return given
