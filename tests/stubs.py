"""Small loopback servers that stand in for other fediverse software in tests.

StubActorServer serves one actor (with a key the test holds) so requests signed
by third-party libraries can be sent as that actor. RecordingInbox records what
is POSTed to it and answers with whatever statuses the test queues.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fedchirp.federation.httpsig import generate_key_pair


@dataclass
class Recorded:
    method: str
    path_qs: str
    headers: dict[str, str]
    body: bytes


class StubServer:
    def __init__(self) -> None:
        self.app = web.Application()
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def start(self, port: int = 0) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port, reuse_address=True)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    @property
    def domain(self) -> str:
        return self.base.removeprefix("http://")


class StubActorServer(StubServer):
    """Serves /users/<name> actors whose private keys the test keeps, plus any other
    documents a test puts in `documents` (path -> (JSON, content type))."""

    def __init__(self) -> None:
        super().__init__()
        self.actors: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, str] = {}
        self.documents: dict[str, tuple[dict[str, Any], str]] = {}
        self.inbox: list[Recorded] = []
        self.inbox_status = 202  # what its inboxes answer (a test may make them fail)
        self.fetches: list[Recorded] = []
        self.app.router.add_post("/users/{name}/inbox", self._record)
        self.app.router.add_post("/inbox", self._record)
        self.app.router.add_get("/{path:.*}", self._serve)

    def add_actor(self, name: str, private_pem: str | None = None) -> str:
        """Create (or re-key) an actor; returns its id."""
        if private_pem is None:
            private_pem, public_pem = generate_key_pair()
        else:
            key = serialization.load_pem_private_key(private_pem.encode(), None)
            public_pem = (
                key.public_key()
                .public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                .decode()
            )
        actor_id = f"{self.base}/users/{name}"
        self.keys[name] = private_pem
        self.actors[name] = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "followers": f"{actor_id}/followers",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": public_pem,
            },
        }
        self.documents[f"/users/{name}"] = (self.actors[name], "application/activity+json")
        return actor_id

    def private_key(self, name: str) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self.keys[name].encode(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    async def _serve(self, request: web.Request) -> web.Response:
        self.fetches.append(Recorded(request.method, request.path_qs, dict(request.headers), b""))
        found = self.documents.get(request.path)
        if found is None:
            return web.Response(status=404)
        document, content_type = found
        return web.Response(text=json.dumps(document), headers={"Content-Type": content_type})

    async def _record(self, request: web.Request) -> web.Response:
        self.inbox.append(
            Recorded(request.method, request.path_qs, dict(request.headers), await request.read())
        )
        return web.Response(status=self.inbox_status)


@dataclass
class RecordingInbox(StubServer):
    """An inbox answering with queued statuses (202 once the queue is empty)."""

    replies: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    received: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()
        self.app.router.add_post("/inbox", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(
            Recorded(request.method, request.path_qs, dict(request.headers), await request.read())
        )
        status, headers = self.replies.popleft() if self.replies else (202, {})
        return web.Response(status=status, headers=headers, text="stub says hi")

    @property
    def url(self) -> str:
        return f"{self.base}/inbox"


def like_activity(actor_uri: str, n: int = 1) -> dict[str, Any]:
    """A small activity to deliver: a Like of nothing in particular, numbered n."""
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor_uri}#test-{n}",
        "type": "Like",
        "actor": actor_uri,
        "object": "https://example.invalid/x",
    }
