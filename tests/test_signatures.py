"""HTTP Signatures, checked against implementations we did not write.

Outgoing: what FedChirp signs (POST deliveries and signed GETs) is verified by
the `httpsig` package. Incoming: requests signed by `apsig` and by `httpsig`
are accepted by our inbox, and every way of getting a signature wrong is
refused with 401/403 and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

import httpsig
import pytest
from apsig.draft.sign import Signer as ApsigSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from fedchirp.localnet import settle
from fedchirp.services import follows
from fedchirp.services.accounts import instance_signer
from tests.dbutil import all_rows, count_rows
from tests.stubs import StubActorServer

# Run on SQLite and on PostgreSQL (see tests/conftest.py).
pytestmark = pytest.mark.backends


def _pem(server: StubActorServer, name: str) -> str:
    return server.keys[name]


def _follow(actor_id: str, target: str, activity_id: str | None = None) -> dict:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": activity_id or f"{actor_id}#follow-{secrets.token_hex(4)}",
        "type": "Follow",
        "actor": actor_id,
        "object": target,
    }


def sign_with_apsig(server: StubActorServer, name: str, url: str, body: bytes) -> dict:
    signer = ApsigSigner(
        headers={"Content-Type": "application/activity+json"},
        private_key=server.private_key(name),
        method="POST",
        url=url,
        key_id=f"{server.base}/users/{name}#main-key",
        body=body,
    )
    headers = signer.sign()
    headers.pop("Authorization", None)  # keep the one Signature header Mastodon sends
    return headers


def sign_with_httpsig(
    server: StubActorServer,
    name: str,
    url: str,
    body: bytes,
    date: datetime | None = None,
    digest_body: bytes | None = None,
) -> dict:
    parts = urlsplit(url)
    digest = base64.b64encode(hashlib.sha256(digest_body or body).digest()).decode()
    headers = {
        "Host": parts.netloc,
        "Date": format_datetime(date or datetime.now(UTC), usegmt=True),
        "Digest": f"SHA-256={digest}",
        "Content-Type": "application/activity+json",
    }
    signer = httpsig.HeaderSigner(
        key_id=f"{server.base}/users/{name}#main-key",
        secret=_pem(server, name),
        algorithm="rsa-sha256",
        headers=["(request-target)", "host", "date", "digest"],
        sign_header="signature",
    )
    return dict(signer.sign(headers, method="POST", path=parts.path))


async def _post(http, url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    async with http.post(url, data=body, headers=headers) as resp:
        text = await resp.text()
        return resp.status, (json.loads(text) if text else {})


async def _nothing_changed(instance) -> None:
    store = instance.ctx.store
    assert await count_rows(store, "inbox_seen") == 0
    assert await count_rows(store, "follows") == 0
    assert await count_rows(store, "statuses") == 0


# -- outgoing ---------------------------------------------------------------


async def test_outgoing_post_and_get_signatures_verify_with_httpsig(start, remote):
    a = await start("a")
    remote.add_actor("zed")
    alice = await a.create_user("alice")
    zed = await a.ctx.resolver.actor(f"{remote.base}/users/zed")
    await follows.follow(a.ctx, alice, zed)
    await settle(a)
    assert len(remote.inbox) == 1
    request = remote.inbox[0]
    headers = request.headers

    # Digest: SHA-256, uppercase name, of the exact body.
    expected = base64.b64encode(hashlib.sha256(request.body).digest()).decode()
    assert headers["Digest"] == f"SHA-256={expected}"
    verifier = httpsig.HeaderVerifier(
        headers=headers,
        secret=alice.public_key_pem,
        required_headers=["(request-target)", "host", "date", "digest"],
        method="POST",
        path=request.path_qs,
        sign_header="signature",
    )
    assert verifier.verify() is True
    assert 'algorithm="rsa-sha256"' in headers["Signature"]
    assert f'keyId="{alice.public_key_id}"' in headers["Signature"]
    assert json.loads(request.body)["type"] == "Follow"

    # Tampering with the body or a header breaks it (the check is not vacuous).
    tampered = dict(
        headers, Date=format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    )
    assert (
        httpsig.HeaderVerifier(
            headers=tampered,
            secret=alice.public_key_pem,
            method="POST",
            path=request.path_qs,
            sign_header="signature",
            required_headers=["(request-target)", "host", "date", "digest"],
        ).verify()
        is False
    )


async def test_signed_get_verifies_with_httpsig(start, remote):
    """Fetches are signed by the instance actor over (request-target) host date."""
    a = await start("a")
    zed = remote.add_actor("zed")
    await a.ctx.resolver.actor(zed)
    fetch = remote.fetches[-1]
    assert fetch.method == "GET" and "activity+json" in fetch.headers["Accept"]
    _, instance_pem = await instance_signer(a.ctx.store, a.ctx.urls)
    verifier = httpsig.HeaderVerifier(
        headers=fetch.headers,
        secret=instance_pem,
        method="GET",
        path=fetch.path_qs,
        required_headers=["(request-target)", "host", "date"],
        sign_header="signature",
    )
    assert verifier.verify() is True
    assert "digest" not in fetch.headers["Signature"]
    assert f'keyId="{a.base_url}/actor#main-key"' in fetch.headers["Signature"]


# -- incoming: accepted -----------------------------------------------------


@pytest.mark.parametrize("library", ["apsig", "httpsig"])
async def test_inbox_accepts_requests_signed_by_other_libraries(start, remote, http, library):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/users/alice/inbox"
    body = json.dumps(_follow(zed, alice.uri)).encode()
    sign = sign_with_apsig if library == "apsig" else sign_with_httpsig
    status, _ = await _post(http, url, body, sign(remote, "zed", url, body))
    assert status == 202
    await settle(a)  # a worker applies it; alice's server answers with a signed Accept
    follower = await a.ctx.store.get_account_by_uri(zed)
    follow = await a.ctx.store.get_follow(follower.id, alice.id)
    assert follow is not None and follow.state == "accepted"
    accept = json.loads(remote.inbox[-1].body)
    assert accept["type"] == "Accept" and accept["object"]["id"] == json.loads(body)["id"]


async def test_hs2019_label_is_accepted(start, remote, http):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    body = json.dumps(_follow(zed, alice.uri)).encode()
    headers = sign_with_httpsig(remote, "zed", url, body)
    headers["Signature"] = headers.pop("signature", headers.get("Signature", "")).replace(
        'algorithm="rsa-sha256"', 'algorithm="hs2019"'
    )
    status, _ = await _post(http, url, body, headers)
    assert status == 202


async def test_hs2019_with_created_instead_of_date(start, remote, http):
    """hs2019 may sign (created) rather than Date; with rsa-sha256 that is refused."""
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    body = json.dumps(_follow(zed, alice.uri)).encode()
    created = int(datetime.now(UTC).timestamp())
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    host = urlsplit(url).netloc
    text = f"(request-target): post /inbox\nhost: {host}\n(created): {created}\ndigest: {digest}"
    signature = base64.b64encode(
        remote.private_key("zed").sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()

    def headers(algorithm: str) -> dict:
        return {
            "Host": host,
            "Digest": digest,
            "Content-Type": "application/activity+json",
            "Signature": f'keyId="{zed}#main-key",algorithm="{algorithm}",created={created},'
            f'headers="(request-target) host (created) digest",'
            f'signature="{signature}"',
        }

    status, answer = await _post(http, url, body, headers("rsa-sha256"))
    assert status == 401 and "hs2019" in answer["error"]
    status, _ = await _post(http, url, body, headers("hs2019"))
    assert status == 202


async def test_rotated_key_is_refetched_once(start, remote, http):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    first = json.dumps(_follow(zed, alice.uri)).encode()
    assert (await _post(http, url, first, sign_with_apsig(remote, "zed", url, first)))[0] == 202
    await settle(a)
    remote.add_actor("zed")  # new key; A still caches the old one
    undo = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{zed}#undo-1",
            "type": "Undo",
            "actor": zed,
            "object": json.loads(first),
        }
    ).encode()
    status, _ = await _post(http, url, undo, sign_with_apsig(remote, "zed", url, undo))
    assert status == 202
    await settle(a)
    follower = await a.ctx.store.get_account_by_uri(zed)
    assert await a.ctx.store.get_follow(follower.id, alice.id) is None
    assert follower.public_key_pem in remote.actors["zed"]["publicKey"]["publicKeyPem"]


# -- incoming: refused ------------------------------------------------------


async def test_unsigned_request_is_refused(start, remote, http):
    a = await start("a")
    alice = await a.create_user("alice")
    body = json.dumps(_follow(remote.add_actor("zed"), alice.uri)).encode()
    status, answer = await _post(
        http, f"{a.base_url}/inbox", body, {"Content-Type": "application/activity+json"}
    )
    assert status == 401 and "not signed" in answer["error"]
    await _nothing_changed(a)


async def test_digest_mismatch_is_refused(start, remote, http):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    body = json.dumps(_follow(zed, alice.uri)).encode()
    other = json.dumps(_follow(zed, alice.uri, f"{zed}#other")).encode()
    headers = sign_with_httpsig(remote, "zed", url, body, digest_body=other)
    status, answer = await _post(http, url, body, headers)
    assert status == 401 and "Digest does not match" in answer["error"]
    await _nothing_changed(a)


async def test_body_swapped_after_signing_is_refused(start, remote, http):
    """The digest is signed: a correct Digest for a different body breaks the signature."""
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    body = json.dumps(_follow(zed, alice.uri)).encode()
    headers = sign_with_apsig(remote, "zed", url, body)
    swapped = json.dumps(_follow(zed, alice.uri, f"{zed}#swapped")).encode()
    headers["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(swapped).digest()).decode()
    status, answer = await _post(http, url, swapped, headers)
    assert status == 401 and "does not verify" in answer["error"]
    await _nothing_changed(a)


async def test_stale_date_is_refused(start, remote, http):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    body = json.dumps(_follow(zed, alice.uri)).encode()
    old = datetime.now(UTC) - timedelta(hours=13)
    status, answer = await _post(
        http, url, body, sign_with_httpsig(remote, "zed", url, body, date=old)
    )
    assert status == 401 and "too old" in answer["error"]
    future = datetime.now(UTC) + timedelta(hours=2)
    status, answer = await _post(
        http, url, body, sign_with_httpsig(remote, "zed", url, body, date=future)
    )
    assert status == 401 and "future" in answer["error"]
    await _nothing_changed(a)


async def test_signature_by_wrong_key_is_refused(start, remote, http):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    remote.add_actor("yves")
    url = f"{a.base_url}/inbox"
    body = json.dumps(_follow(zed, alice.uri)).encode()
    headers = sign_with_httpsig(remote, "yves", url, body)
    # Claim zed's key id while signing with yves's key.
    headers["signature"] = headers["signature"].replace("/users/yves#", "/users/zed#")
    status, answer = await _post(http, url, body, headers)
    assert status == 401 and "does not verify" in answer["error"]
    await _nothing_changed(a)


async def test_spoofed_actor_is_refused(start, remote, http):
    """yves signs correctly, but the activity says zed did it."""
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    remote.add_actor("yves")
    url = f"{a.base_url}/inbox"
    body = json.dumps(_follow(zed, alice.uri)).encode()
    status, answer = await _post(http, url, body, sign_with_apsig(remote, "yves", url, body))
    assert status == 403 and "actor is" in answer["error"]
    await _nothing_changed(a)


async def test_unreachable_key_is_refused(start, http):
    a = await start("a")
    alice = await a.create_user("alice")
    gone = StubActorServer()
    await gone.start()
    zed = gone.add_actor("zed")
    url = f"{a.base_url}/inbox"
    body = json.dumps(_follow(zed, alice.uri)).encode()
    headers = sign_with_apsig(gone, "zed", url, body)
    await gone.stop()
    status, answer = await _post(http, url, body, headers)
    assert status == 401 and "could not get key" in answer["error"]
    await _nothing_changed(a)


async def test_malformed_bodies_are_refused(start, remote, http):
    a = await start("a", settings={"server": {"max_request_bytes": 20_000}})
    await a.create_user("alice")
    remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    for body, expected in [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (json.dumps({"type": "Follow"}).encode(), 400),  # no actor, no id
    ]:
        status, answer = await _post(http, url, body, sign_with_apsig(remote, "zed", url, body))
        assert status == expected and answer["error"], body
    body = json.dumps(_follow(f"{remote.base}/users/zed", "x")).encode()
    headers = sign_with_apsig(remote, "zed", url, body)
    headers["Content-Type"] = "text/plain"
    status, answer = await _post(http, url, body, headers)
    assert status == 415 and "content type" in answer["error"]
    huge = json.dumps({"type": "Note", "content": "x" * 30_000}).encode()
    status, _ = await _post(http, url, huge, sign_with_apsig(remote, "zed", url, huge))
    assert status == 413
    await _nothing_changed(a)


async def test_activity_id_on_another_server_is_refused(start, remote, http):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    body = json.dumps(_follow(zed, alice.uri, "https://elsewhere.example/follow/1")).encode()
    status, answer = await _post(http, url, body, sign_with_apsig(remote, "zed", url, body))
    assert status == 400 and "not on the actor's server" in answer["error"]
    await _nothing_changed(a)


# -- idempotency and unknown types -------------------------------------------


async def test_same_activity_twice_changes_nothing_more(start, remote, http):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    await _post(
        http,
        url,
        (f := json.dumps(_follow(zed, alice.uri)).encode()),
        sign_with_apsig(remote, "zed", url, f),
    )
    await settle(a)
    note_id = f"{zed}/notes/1"
    create = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": zed,
            "to": ["as:Public"],
            "cc": [f"{zed}/followers"],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": zed,
                "content": "<p>hi <script>alert(1)</script></p>",
                "to": ["Public"],
                "cc": [],
                "published": "2026-01-02T03:04:05Z",
            },
        }
    ).encode()
    for _ in range(2):
        status, _ = await _post(http, url, create, sign_with_apsig(remote, "zed", url, create))
        assert status == 202
    assert await count_rows(a.ctx.store, "jobs") == 1  # the repeat was dropped at insert
    await settle(a)
    # zed follows alice, but nobody on A follows zed: not wanted
    assert await count_rows(a.ctx.store, "statuses") == 0
    # alice follows zed back, so zed's posts are wanted now.
    zed_account = await a.ctx.store.get_account_by_uri(zed)
    await follows.follow(a.ctx, alice, zed_account)
    await a.ctx.store.accept_follow((await a.ctx.store.get_follow(alice.id, zed_account.id)).id)
    create2 = create.replace(b"/notes/1", b"/notes/2")
    for _ in range(2):
        status, _ = await _post(http, url, create2, sign_with_apsig(remote, "zed", url, create2))
        assert status == 202
        await settle(a)  # applied; the repeat is queued again, and dropped as seen
    stored = await all_rows(a.ctx.store, "statuses")
    assert len(stored) == 1
    assert stored[0]["visibility"] == "public"  # "Public" / "as:Public" both mean Public
    assert "<script>" not in stored[0]["content"] and "hi" in stored[0]["content"]
    assert stored[0]["created_at"] == "2026-01-02T03:04:05.000Z"


async def test_unknown_activity_types_are_accepted_and_ignored(start, remote, http):
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    for kind in ("EmojiReact", "Move", "Flag", "Add"):
        body = json.dumps(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": f"{zed}#{kind}",
                "type": kind,
                "actor": zed,
                "object": alice.uri,
            }
        ).encode()
        status, _ = await _post(http, url, body, sign_with_apsig(remote, "zed", url, body))
        assert status == 202
    await settle(a)
    assert await count_rows(a.ctx.store, "follows") == 0
    assert await count_rows(a.ctx.store, "inbox_seen") == 4


async def test_forged_create_of_someone_elses_note_is_ignored(start, remote, http):
    """zed sends a Create of a note claiming to be by yves: nothing is stored."""
    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    yves = remote.add_actor("yves")
    url = f"{a.base_url}/inbox"
    body = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{zed}/forged/activity",
            "type": "Create",
            "actor": zed,
            "to": [alice.uri],
            "object": {
                "id": f"{yves}/notes/9",
                "type": "Note",
                "attributedTo": yves,
                "content": "words yves never wrote",
                "to": [alice.uri],
                "tag": [{"type": "Mention", "href": alice.uri}],
            },
        }
    ).encode()
    status, _ = await _post(http, url, body, sign_with_apsig(remote, "zed", url, body))
    assert status == 202
    assert await count_rows(a.ctx.store, "statuses") == 0


def test_private_key_pem_is_pkcs8():
    from fedchirp.federation.httpsig import generate_key_pair

    private, public = generate_key_pair()
    key = serialization.load_pem_private_key(private.encode(), None)
    assert key.key_size == 2048
    assert public.startswith("-----BEGIN PUBLIC KEY-----")


async def test_activity_that_failed_half_way_is_processed_on_retry(
    start, remote, http, monkeypatch
):
    """Applying dies (a crash, a full disk): nothing of it is kept, the job is retried
    later, and the retry is processed, not dismissed as a duplicate."""
    from sqlalchemy import update

    from fedchirp.services import inbox
    from fedchirp.store.schema import jobs

    a = await start("a")
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    body = json.dumps(_follow(zed, alice.uri)).encode()
    real = inbox.HANDLERS["Follow"]

    async def dies(ctx, activity, actor, fetched):
        await real(ctx, activity, actor, fetched)  # writes the follow, then fails
        raise RuntimeError("disk full")

    monkeypatch.setitem(inbox.HANDLERS, "Follow", dies)
    status, _ = await _post(http, url, body, sign_with_apsig(remote, "zed", url, body))
    assert status == 202
    await settle(a)
    follower = await a.ctx.store.get_account_by_uri(zed)
    assert await a.ctx.store.get_follow(follower.id, alice.id) is None
    assert not await a.ctx.store.activity_seen(json.loads(body)["id"])
    [job] = await all_rows(a.ctx.store, "jobs")
    assert (job["state"], job["attempts"], job["last_error"]) == (
        "queued",
        1,
        "RuntimeError: disk full",
    )
    monkeypatch.setitem(inbox.HANDLERS, "Follow", real)
    await a.ctx.store.db.write(update(jobs).values(run_at=0))  # its retry is due
    await settle(a)
    assert await a.ctx.store.get_follow(follower.id, alice.id) is not None
    assert await count_rows(a.ctx.store, "jobs") == 0


async def test_activities_of_one_sender_are_applied_in_the_order_they_came(
    start, remote, http
):
    """Follow, then Undo at once: both queued, the Undo waits for its Follow to be applied
    (one lane per sender), so the follow ends up undone, never the other way round."""
    a = await start("a", run_workers=False)
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    url = f"{a.base_url}/inbox"
    follow = json.dumps(_follow(zed, alice.uri)).encode()
    undo = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{zed}#undo-1",
            "type": "Undo",
            "actor": zed,
            "object": json.loads(follow),
        }
    ).encode()
    for body in (follow, undo):
        assert (await _post(http, url, body, sign_with_apsig(remote, "zed", url, body)))[0] == 202
    claimed = await a.ctx.store.claim_jobs(["inbox"], time.time(), 60, 10)
    assert [json.loads(job.payload)["activity"]["type"] for job in claimed] == ["Follow"]
    await a.ctx.store.release_jobs([job.id for job in claimed])
    await settle(a)
    follower = await a.ctx.store.get_account_by_uri(zed)
    assert await a.ctx.store.get_follow(follower.id, alice.id) is None


async def test_a_create_whose_note_cannot_be_fetched_yet_is_retried(start, remote, http):
    """The note's origin cannot be reached just now (unlike a 404, a failed connection may
    pass): the job waits to be tried again and nothing is marked seen; after its last
    attempt it is kept as dead."""
    from sqlalchemy import update

    from fedchirp.services import follows
    from fedchirp.store.schema import jobs

    a = await start("a", run_workers=False)
    alice = await a.create_user("alice")
    zed = remote.add_actor("zed")
    zed_account = await a.ctx.resolver.actor(zed)
    await a.ctx.store.accept_follow((await follows.follow(a.ctx, alice, zed_account)).id)
    await settle(a)
    down = await _unreachable_base()
    note_id = f"{down}/notes/1"  # on another server: it must be fetched from there
    create = json.dumps(
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{zed}/activities/1",
            "type": "Create",
            "actor": zed,
            "object": note_id,
        }
    ).encode()
    url = f"{a.base_url}/inbox"
    status, _ = await _post(http, url, create, sign_with_apsig(remote, "zed", url, create))
    assert status == 202
    await a.ctx.jobs.drain()
    [job] = await all_rows(a.ctx.store, "jobs")
    assert (job["state"], job["attempts"]) == ("queued", 1)
    assert "failed" in job["last_error"]
    assert not await a.ctx.store.activity_seen(f"{zed}/activities/1")
    # Once tried for the last time, it is kept as dead for an admin to see.
    await a.ctx.store.db.write(update(jobs).values(run_at=0, attempts=7))
    await a.ctx.jobs.drain()
    [job] = await all_rows(a.ctx.store, "jobs")
    assert job["state"] == "dead"


async def _unreachable_base() -> str:
    """http://127.0.0.1:<port> where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"
