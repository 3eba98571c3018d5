"""Sending Web Push messages, as Mastodon's Web::PushNotificationWorker does.

When a local account is notified, one job per subscription that wants that type of
alert is queued with the notification (queue push.deliver). The job checks the
subscription's policy against the sender, builds Mastodon's payload (access_token,
preferred_locale, notification_id, notification_type, icon, title, body), encrypts
it for the app (pywebpush: RFC 8291 aes128gcm for a `standard` subscription, the
older aesgcm draft with Encryption and Crypto-Key headers otherwise, as Mastodon
still sends to apps that did not ask for the standard), signs it with the
instance's VAPID key (RFC 8292) and POSTs it with TTL and Urgency through our own
HTTP client, so the SSRF guard sees every endpoint. A 4xx answer other than 408 and
429 means the subscription is gone or was never good: it is deleted, as Mastodon
deletes it. 408, 429, 5xx and network failures are retried with the queue's backoff.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid01, Vapid02
from pywebpush import WebPusher

from fedchirp import html
from fedchirp.federation.http import FetchError
from fedchirp.services import push
from fedchirp.services.context import Context
from fedchirp.services.jobs import Retry
from fedchirp.store.models import Account, Status
from fedchirp.store.push import PushSubscription

log = logging.getLogger(__name__)

PUSH_QUEUE = "push.deliver"
PUSH_RETRY = Retry(base_seconds=30.0, max_seconds=3600.0, attempts=6)
TTL_SECONDS = 48 * 3600  # Mastodon's: a phone off for two days still gets it
URGENCY = "normal"
BODY_CHARS = 140
VAPID_LIFETIME_SECONDS = 12 * 3600
SEND_TIMEOUT_SECONDS = 30.0
DEFAULT_AVATAR_PATH = "/static/avatar.png"  # as the API's account entities give it
# Mastodon's notification_mailer subjects, which its pushes use as titles.
TITLES = {
    "mention": "You were mentioned by {name}",
    "status": "{name} just posted",
    "reblog": "{name} boosted your post",
    "follow": "{name} is now following you",
    "follow_request": "Pending follower: {name}",
    "favourite": "{name} favorited your post",
    "poll": "A poll by {name} has ended",
    "update": "{name} edited a post",
    "admin.sign_up": "New sign-up: {name}",
    "admin.report": "New report from {name}",
}


class PushRefused(Exception):
    """The push service answered with a status worth trying again later."""


def register_jobs(ctx: Context) -> None:
    ctx.jobs.register(
        PUSH_QUEUE, lambda payload: deliver(ctx, payload), PUSH_RETRY, keep_dead=False
    )


async def queue_pushes(
    ctx: Context, recipients: Sequence[Account], kind: str, actor: Account, status_id: int | None
) -> None:
    """Queue a push for every subscription of these (just notified) accounts that wants
    this kind of alert; in the caller's unit of work, if it has one."""
    wanted = await ctx.store.push_subscriptions_for([r.id for r in recipients])
    for found in wanted:
        if not push.alerts_of(found).get(kind):
            continue
        job = {
            "subscription_id": found.id,
            "account_id": found.account_id,
            "kind": kind,
            "from_account_id": actor.id,
            "status_id": status_id,
        }
        await ctx.jobs.enqueue(PUSH_QUEUE, None, job)


async def deliver(ctx: Context, job: dict[str, Any]) -> None:
    """Send one notification to one subscription (the job's handler)."""
    found = await ctx.store.push_subscription_by_id(job["subscription_id"])
    kind = job["kind"]
    if found is None or not push.alerts_of(found).get(kind):
        return  # unsubscribed, or the alert switched off, since it was queued
    actor = await ctx.store.get_account(job["from_account_id"])
    if actor is None or not await _policy_allows(ctx, found, actor):
        return
    notification_id = await ctx.store.newest_notification_id(
        found.account_id, kind, actor.id, job["status_id"]
    )
    if notification_id is None:
        return  # dismissed already
    status = await ctx.store.get_status(job["status_id"]) if job["status_id"] else None
    message = _payload(ctx, found, notification_id, kind, actor, status)
    key = await push.vapid_key(ctx)
    body, headers = await asyncio.to_thread(_encrypt, found, message, key, _subject(ctx))
    try:
        result = await ctx.http.post_bytes(found.endpoint, body, headers, SEND_TIMEOUT_SECONDS)
    except FetchError as exc:
        if exc.transient:
            raise
        log.info("push subscription %s is not reachable: %s", found.id, exc)
        return
    if 200 <= result.status < 300:
        return
    if 400 <= result.status < 500 and result.status not in (408, 429):
        log.info("push service answered %s: subscription %s deleted", result.status, found.id)
        await ctx.store.delete_push_subscription_by_id(found.id)
        return
    raise PushRefused(f"push service answered {result.status}: {result.reason[:200]}")


async def _policy_allows(ctx: Context, found: PushSubscription, sender: Account) -> bool:
    """all: anyone; followed: people the subscriber follows; follower: the subscriber's
    followers; none: nobody."""
    if found.policy == "all":
        return True
    if found.policy == "followed":
        follow = await ctx.store.get_follow(found.account_id, sender.id)
    elif found.policy == "follower":
        follow = await ctx.store.get_follow(sender.id, found.account_id)
    else:
        return False
    return follow is not None and follow.state == "accepted"


def _payload(
    ctx: Context,
    found: PushSubscription,
    notification_id: int,
    kind: str,
    actor: Account,
    status: Status | None,
) -> dict[str, Any]:
    """Mastodon's Web::NotificationSerializer."""
    name = actor.display_name or actor.username
    if status is not None:
        text = status.spoiler_text or html.to_text(status.content)
    else:
        text = html.to_text(actor.note)
    return {
        "access_token": found.access_token,
        "preferred_locale": "en",
        "notification_id": notification_id,
        "notification_type": kind,
        "icon": actor.avatar_url or f"{ctx.urls.base}{DEFAULT_AVATAR_PATH}",
        "title": TITLES.get(kind, "{name}").format(name=name),
        "body": _truncate(text, BODY_CHARS),
    }


def _truncate(text: str, size: int) -> str:
    """As Rails' truncate: at most size characters, ending in ... when cut."""
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 3].rstrip() + "..."


def _subject(ctx: Context) -> str:
    """The VAPID contact (sub): how a push service reaches whoever runs the instance."""
    return ctx.urls.base


def _encrypt(
    found: PushSubscription, message: dict[str, Any], key: ec.EllipticCurvePrivateKey, sub: str
) -> tuple[bytes, dict[str, str]]:
    """The encrypted body and the headers to POST it with (CPU work: off the loop)."""
    endpoint = urlsplit(found.endpoint)
    claims = {
        "aud": f"{endpoint.scheme}://{endpoint.netloc}",
        "sub": sub,
        "exp": int(time.time()) + VAPID_LIFETIME_SECONDS,
    }
    keys = {"p256dh": _b64url(found.p256dh), "auth": _b64url(found.auth)}
    pusher = WebPusher({"endpoint": found.endpoint, "keys": keys})
    data = json.dumps(message, ensure_ascii=False).encode("utf-8")
    headers = {"TTL": str(TTL_SECONDS), "Urgency": URGENCY,
               "Content-Type": "application/octet-stream"}  # fmt: skip
    # no-strict: sub may be an http:// base URL (loopback instances in tests).
    conf = {"no-strict": True}
    if found.standard:
        encoded = pusher.encode(data, "aes128gcm")
        headers["Content-Encoding"] = "aes128gcm"
        headers.update(Vapid02(key, conf).sign(claims))
        return encoded["body"], headers
    encoded = pusher.encode(data, "aesgcm")
    headers["Content-Encoding"] = "aesgcm"
    headers["Encryption"] = f"salt={encoded['salt'].decode('ascii')}"
    signed = Vapid01(key, conf).sign(claims, f"dh={encoded['crypto_key'].decode('ascii')}")
    headers.update(signed)
    return encoded["body"], headers


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(push.decode_key(text)).rstrip(b"=").decode("ascii")
