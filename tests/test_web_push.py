"""Web Push: Mastodon.py's push_subscription calls, and pushes to a real push service on
127.0.0.1 that checks the VAPID signature and decrypts each message with the
subscription's private key (tests/pushservice.py)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from mastodon import Mastodon, MastodonNotFoundError
from sqlalchemy import select

from fedchirp.localnet import DEFAULT_PASSWORD, LocalInstance, settle
from fedchirp.store.schema import web_push_subscriptions
from tests.pushservice import PushService, Subscriber, check_vapid

SCOPES = ["read", "write", "follow", "push"]
OOB = "urn:ietf:wg:oauth:2.0:oob"


async def sync(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


async def _mastodon(instance: LocalInstance, username: str, scopes: list[str] = SCOPES) -> Any:
    client_id, secret = await sync(
        Mastodon.create_app, "t", api_base_url=instance.base_url, scopes=scopes, redirect_uris=OOB
    )
    api = Mastodon(client_id=client_id, client_secret=secret, api_base_url=instance.base_url)
    await sync(api.log_in, username, DEFAULT_PASSWORD, scopes=scopes, allow_http=True)
    return api


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    service = await PushService().start()
    yield service
    await service.stop()


async def _server_key(instance: LocalInstance) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.get(instance.base_url + "/api/v2/instance") as resp,
    ):
        return (await resp.json())["configuration"]["vapid"]["public_key"]


async def _people(start: Any) -> tuple[LocalInstance, Any, Any, Any]:
    a = await start("a")
    for name in ("alice", "bob", "carol"):
        await a.create_user(name)
    alice, bob, carol = [await _mastodon(a, name) for name in ("alice", "bob", "carol")]
    return a, alice, bob, carol


@pytest.mark.backends
async def test_mastodon_py_subscription_and_a_mention_push(start, push_service):
    a, alice, bob, _ = await _people(start)
    server_key = await _server_key(a)
    app = Subscriber(alice)
    made = await sync(
        alice.push_subscription_set,
        push_service.endpoint("alice"),
        app.public,
        mention_events=True,
        follow_events=False,
        favourite_events=True,
    )
    assert made.endpoint == push_service.endpoint("alice")
    assert made.server_key == server_key and len(server_key) == 87  # 65 bytes, base64url
    assert made.alerts["mention"] is True and made.alerts["follow"] is False
    assert made.alerts["favourite"] is True and made.alerts["reblog"] is False
    assert made.policy == "all" and made.standard is False
    shown = await sync(alice.push_subscription)
    assert shown.id == made.id and shown.alerts == made.alerts

    await sync(bob.status_post, "@alice the push works, does it not?")
    await settle(a)
    assert len(push_service.received) == 1
    message = push_service.received[0]
    assert message.path == "/push/alice"
    assert message.headers["TTL"] == "172800" and message.headers["Urgency"] == "normal"
    assert message.headers["Content-Encoding"] == "aesgcm"
    check_vapid(message, server_key, push_service.origin)
    payload = app.decrypt(message)
    notification = (await sync(alice.notifications))[0]
    assert payload["notification_type"] == "mention" == notification.type
    assert str(payload["notification_id"]) == str(notification.id)
    assert payload["access_token"] == alice.access_token
    assert payload["preferred_locale"] == "en"
    assert payload["title"] == "You were mentioned by bob"
    assert "the push works, does it not?" in payload["body"]
    assert payload["icon"].startswith("http")

    # Mentions switched off: the notification is made, no push is sent.
    updated = await sync(alice.push_subscription_update, mention_events=False)
    assert updated.alerts["mention"] is False and updated.alerts["favourite"] is True
    await sync(bob.status_post, "@alice and now?")
    await settle(a)
    assert len(await sync(alice.notifications)) == 2
    assert len(push_service.received) == 1

    await sync(alice.push_subscription_delete)
    with pytest.raises(MastodonNotFoundError):
        await sync(alice.push_subscription)


async def test_standard_subscription_is_rfc8291_aes128gcm_with_rfc8292_vapid(start, push_service):
    a, alice, bob, _ = await _people(start)
    app = Subscriber(alice)
    body = {
        "subscription": {
            "endpoint": push_service.endpoint("std"),
            "keys": {"p256dh": app.p256dh, "auth": app.auth},
            "standard": True,
        },
        "data": {"alerts": {"follow": True}, "policy": "all"},
    }
    headers = {"Authorization": f"Bearer {alice.access_token}"}
    async with aiohttp.ClientSession() as http:
        url = a.base_url + "/api/v1/push/subscription"
        async with http.post(url, json=body, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            made = await resp.json()
    assert made["standard"] is True and made["alerts"]["follow"] is True
    assert made["alerts"]["mention"] is False

    await sync(bob.account_follow, (await sync(bob.account_lookup, "alice")).id)
    await settle(a)
    assert len(push_service.received) == 1
    message = push_service.received[0]
    assert message.headers["Content-Encoding"] == "aes128gcm"
    assert message.headers["Authorization"].startswith("vapid t=")
    server_key = await _server_key(a)
    check_vapid(message, server_key, push_service.origin)
    payload = app.decrypt(message)
    assert payload["notification_type"] == "follow"
    assert payload["title"] == "bob is now following you"
    assert str(payload["notification_id"]) == (await sync(alice.notifications))[0].id
    # The same key in the Application entity (vapid_key), which older apps read.
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            a.base_url + "/api/v1/apps", json={"client_name": "x", "redirect_uris": OOB}
        ) as resp,
    ):
        assert (await resp.json())["vapid_key"] == server_key


async def test_policy_followed_pushes_only_from_people_followed(start, push_service):
    a, alice, bob, carol = await _people(start)
    app = Subscriber(alice)
    await sync(
        alice.push_subscription_set,
        push_service.endpoint("alice"),
        app.public,
        mention_events=True,
        policy="followed",
    )
    assert (await sync(alice.push_subscription)).policy == "followed"
    await sync(alice.account_follow, (await sync(alice.account_lookup, "carol")).id)
    await sync(bob.status_post, "@alice from a stranger")
    await sync(carol.status_post, "@alice from a friend")
    await settle(a)
    assert len(await sync(alice.notifications, types=["mention"])) == 2
    assert [app.decrypt(m)["body"] for m in push_service.received] == ["@alice from a friend"]


async def test_a_gone_subscription_is_deleted(start, push_service):
    a, alice, bob, _ = await _people(start)
    push_service.status = 410
    await sync(
        alice.push_subscription_set, push_service.endpoint("old"), Subscriber(alice).public,
        mention_events=True,
    )  # fmt: skip
    await sync(bob.status_post, "@alice are you there?")
    await settle(a)
    assert len(push_service.received) == 1
    with pytest.raises(MastodonNotFoundError):
        await sync(alice.push_subscription)


async def test_a_busy_push_service_is_tried_again(start, push_service):
    a, alice, bob, _ = await _people(start)
    push_service.status = 503
    app = Subscriber(alice)
    await sync(alice.push_subscription_set, push_service.endpoint("a"), app.public,
               mention_events=True)  # fmt: skip
    await sync(bob.status_post, "@alice later then")
    await settle(a)
    assert len(push_service.received) == 1
    push_service.status = 201
    a.ctx.jobs.clock = lambda: 1e12  # far in the future: the retry is due
    await settle(a)
    assert len(push_service.received) == 2
    assert app.decrypt(push_service.received[1])["body"] == "@alice later then"
    assert (await sync(alice.push_subscription)).endpoint == push_service.endpoint("a")


async def test_revoking_the_token_ends_its_subscription(start, push_service):
    a, alice, bob, _ = await _people(start)
    await sync(alice.push_subscription_set, push_service.endpoint("a"),
               Subscriber(alice).public, mention_events=True)  # fmt: skip
    alice_id = (await sync(alice.me)).id
    form = {"client_id": alice.client_id, "client_secret": alice.client_secret,
            "token": alice.access_token}  # fmt: skip
    async with (
        aiohttp.ClientSession() as http,
        http.post(a.base_url + "/oauth/revoke", data=form) as resp,
    ):
        assert resp.status == 200
    rows = await a.ctx.store.db.all(
        select(web_push_subscriptions).where(web_push_subscriptions.c.account_id == int(alice_id))
    )
    assert rows == []  # the row itself, not just skipped
    await sync(bob.status_post, "@alice gone?")
    await settle(a)
    assert push_service.received == []


BAD_INPUT = [
    ({"subscription[endpoint]": "ftp://push.example/x"}, "endpoint"),
    ({"subscription[endpoint]": ""}, "endpoint"),
    ({"subscription[keys][p256dh]": "not base64!"}, "p256dh"),
    ({"subscription[keys][p256dh]": "AAAA"}, "p256dh"),
    ({"subscription[keys][p256dh]": "BA" + "A" * 85}, "p256dh"),  # 65 bytes, not a point
    ({"subscription[keys][auth]": "AAAAAAAA"}, "auth"),
    ({"data[policy]": "everyone"}, "policy"),
    ({"data[alerts][mention]": "maybe"}, "mention"),
]


@pytest.mark.parametrize(("change", "named"), BAD_INPUT)
async def test_bad_subscription_input_is_422(start, push_service, change, named):
    a, alice, _, _ = await _people(start)
    app = Subscriber(alice)
    form = {
        "subscription[endpoint]": push_service.endpoint("a"),
        "subscription[keys][p256dh]": app.p256dh,
        "subscription[keys][auth]": app.auth,
        **change,
    }
    headers = {"Authorization": f"Bearer {alice.access_token}"}
    async with aiohttp.ClientSession() as http:
        url = a.base_url + "/api/v1/push/subscription"
        async with http.post(url, data=form, headers=headers) as resp:
            assert resp.status == 422
            assert named in (await resp.json())["error"]
        async with http.get(url, headers=headers) as resp:
            assert resp.status == 404  # nothing was stored


async def test_https_is_required_unless_http_is_allowed(start, push_service):
    a = await start("a", settings={"federation": {"allow_http": False}})
    await a.create_user("alice")
    alice = await _mastodon(a, "alice")
    with pytest.raises(Exception, match="422"):
        await sync(alice.push_subscription_set, push_service.endpoint("a"),
                   Subscriber(alice).public)  # fmt: skip


async def test_a_private_endpoint_is_refused_by_the_ssrf_guard(start, push_service):
    a = await start("a", settings={"federation": {"allow_private_addresses": False}})
    await a.create_user("alice")
    alice = await _mastodon(a, "alice")
    with pytest.raises(Exception, match="not a public address"):
        await sync(
            alice.push_subscription_set, push_service.endpoint("a"), Subscriber(alice).public
        )


async def test_push_needs_the_push_scope(start, push_service):
    a = await start("a")
    await a.create_user("alice")
    alice = await _mastodon(a, "alice", scopes=["read", "write"])
    with pytest.raises(Exception, match="403"):
        await sync(alice.push_subscription_set, push_service.endpoint("a"),
                   Subscriber(alice).public)  # fmt: skip
