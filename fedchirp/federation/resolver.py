"""Finding remote things: actors (cached in the store), keys, objects, WebFinger.

Every fetch is a signed GET (by the instance actor, so servers with authorized
fetch answer us) through the SSRF-guarded client. A document is believed only
for the origin that served it: its id must be on the host we fetched it from.

A cached actor gone stale is returned as it is, and its refresh is queued as a
job (queue_refresh, wired by services/refreshes.py): nobody waits on a remote
server to see a profile we already hold. Unknown actors, and explicit refreshes
(a key that failed, an Update of the profile), are fetched at once.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urldefrag

from fedchirp.clock import now_iso
from fedchirp.config import Config
from fedchirp.federation.domain_blocks import DomainBlockCache
from fedchirp.federation.http import FetchError, HttpClient, Signer
from fedchirp.federation.profile import ProfileField, fields_to_json
from fedchirp.federation.vocab import (
    InvalidDocument,
    Note,
    RemoteActor,
    host_of,
    id_of,
    is_http_uri,
    key_owner,
    parse_actor,
    parse_emoji_tags,
    parse_note,
    same_origin,
)
from fedchirp.html import sanitize, sanitize_capped, to_text
from fedchirp.store import Store
from fedchirp.store.models import Account

JRD_ACCEPT = "application/jrd+json, application/json"
KEY_REFRESH_INTERVAL = 60.0  # seconds between forced re-fetches of one key
# Every inbox POST looks up its signer's key: the answer is kept in memory this long.
# A rotated key is refetched when a signature fails, so only a deleted actor can
# outlive its deletion here, and its queued activities are then dropped by the worker.
KEY_CACHE_SECONDS = 30.0
KEY_CACHE_SIZE = 10_000
# A stale actor read many times asks for its refresh once a minute per process; the
# job's key collapses what several processes ask for.
REFRESH_ASK_INTERVAL = 60.0
REFRESH_ASKED_SIZE = 10_000
AS2_LINK_TYPES = (
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
)


class ResolveError(Exception):
    """Something remote could not be found or believed; str(exc) says why. transient:
    it could not be reached just now, and trying again later may work."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


QueueRefresh = Callable[[str], Awaitable[None]]


class Resolver:
    def __init__(
        self,
        config: Config,
        store: Store,
        http: HttpClient,
        signer: Signer,
        queue_refresh: QueueRefresh | None = None,
        domain_blocks: DomainBlockCache | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.http = http
        self.signer = signer
        self.local_base = config.base_url
        # Queues a background refresh of an actor, by uri; without it stale ones are
        # refetched inline.
        self.queue_refresh = queue_refresh
        # Suspended servers are never fetched from (services/domain_blocks.py).
        self.domain_blocks = domain_blocks or DomainBlockCache(store)
        self._key_refreshed_at: dict[str, float] = {}
        self._keys: dict[str, tuple[float, Account, int]] = {}
        self._refresh_asked: dict[str, float] = {}

    async def fetch(self, uri: str, id_is_known: bool = True) -> dict[str, Any]:
        """Fetch a remote ActivityStreams document and check it is what it claims to be.

        With id_is_known, the document's id must be exactly uri. Otherwise (a page URL
        from a search, a key id) the document's own id is fetched once more and must
        name itself, as Mastodon does: only its origin gets to say what an id holds.
        """
        document = await self._fetch_once(uri)
        if not id_is_known:
            document_id = id_of(document.get("id"))
            if not is_http_uri(document_id):
                raise ResolveError(f"{uri} has no usable id")
            if document_id != uri:
                uri = document_id  # type: ignore[assignment]
                document = await self._fetch_once(uri)
        if id_of(document.get("id")) != uri:
            raise ResolveError(f"{uri} serves a document with id {document.get('id')!r}")
        return document

    async def _fetch_once(self, uri: str) -> dict[str, Any]:
        if uri.startswith(self.local_base + "/"):
            raise ResolveError(f"{uri} is local; look it up, do not fetch it")
        await self._refuse_suspended(host_of(uri))
        try:
            final_url, document = await self.http.get_json(uri, self.signer)
        except FetchError as exc:
            raise ResolveError(str(exc), exc.transient) from exc
        if host_of(final_url) != host_of(uri):
            raise ResolveError(f"{uri} redirected to another server ({host_of(final_url)})")
        return document

    async def _refuse_suspended(self, host: str) -> None:
        if await self.domain_blocks.suspended(host):
            raise ResolveError(f"{host} is blocked by this server")

    async def fetch_note(self, uri: str, id_is_known: bool = True) -> tuple[Note, Account]:
        """A remote post and its author, fetched from the post's origin. The author must
        live on the same server as the post: nobody may publish in someone else's name."""
        try:
            note = parse_note(await self.fetch(uri, id_is_known))
        except InvalidDocument as exc:
            raise ResolveError(str(exc)) from exc
        if not same_origin(note.id, note.attributed_to):
            raise ResolveError(f"{note.id} claims an author on another server")
        return note, await self.actor(note.attributed_to)

    # -- actors --------------------------------------------------------------

    async def actor(self, uri: str, refresh: bool = False) -> Account:
        """A remote actor from the cache, fetched when unknown or refresh is asked. A stale
        one is returned from the cache with a refresh queued (fetched here if nothing
        queues refreshes)."""
        cached = await self.store.get_account_by_uri(uri)
        if cached is not None and (cached.is_local or not (refresh or self._stale(cached))):
            return cached
        if cached is not None and not refresh and self.queue_refresh is not None:
            await self._ask_refresh(uri)
            return cached
        try:
            return await self._fetch_actor(uri)
        except ResolveError:
            if cached is not None and not refresh:
                return cached  # stale but usable; the origin is only briefly away
            raise

    def _stale(self, account: Account) -> bool:
        age = time.time() - (account.fetched_at or 0)
        return age > self.config.federation.actor_refresh_seconds

    async def _ask_refresh(self, uri: str) -> None:
        assert self.queue_refresh is not None
        now = time.monotonic()
        if now - self._refresh_asked.get(uri, -REFRESH_ASK_INTERVAL) < REFRESH_ASK_INTERVAL:
            return
        if len(self._refresh_asked) >= REFRESH_ASKED_SIZE:
            self._refresh_asked.clear()  # only ever costs a dropped insert per actor
        self._refresh_asked[uri] = now
        await self.queue_refresh(uri)

    async def _fetch_actor(self, uri: str) -> Account:
        return (await self.fetch_actor(uri))[0]

    async def fetch_actor(self, uri: str) -> tuple[Account, RemoteActor]:
        """Fetch and store a remote actor now: the account, and what its document said
        (the refresh job reads the address of its featured tags from it)."""
        document = await self.fetch(uri)
        actor = _parse_actor(document, uri)
        return await self._save_actor(actor, document), actor

    async def _store_actor(self, document: dict[str, Any], uri: str) -> Account:
        return await self._save_actor(_parse_actor(document, uri), document)

    async def _save_actor(self, actor: RemoteActor, document: dict[str, Any]) -> Account:
        row = _account_row(actor)
        block = await self.domain_blocks.block_for(row["domain"])
        if block is not None:
            # A server silenced (or its media refused) before we knew this account.
            if block.severity == "silence":
                row["silenced_at"] = block.created_at
            if block.reject_media:
                row["avatar_url"] = ""
        async with self.store.atomic():  # the profile and the emoji its name and bio use
            for tag in parse_emoji_tags(document.get("tag")):
                await self.store.save_remote_emoji(row["domain"], tag.shortcode, tag.url, tag.uri)
            return await self.store.upsert_remote_account(row)

    async def actor_for_key(self, key_id: str, refresh: bool = False) -> Account:
        """The actor owning key_id; refresh re-fetches it (keys rotate), at most once a
        minute per key so a stream of bad signatures cannot make us fetch in a loop."""
        if not refresh or not self._may_refresh(key_id):
            cached = self._cached_key(key_id)
            if cached is not None:
                return cached  # kept for 30 s from the read, not renewed by use
            known = await self.store.get_account_by_key_id(key_id)
            if known is not None:
                return self._remember_key(key_id, known)
        key_url = urldefrag(key_id)[0]
        if key_url.startswith(self.local_base + "/"):
            raise ResolveError(f"{key_id} claims to be one of our own keys")
        # The key URL may serve the actor (Mastodon: actor#main-key), a minimal actor
        # (GoToSocial: actor/main-key), or a key document naming its owner.
        document = await self.fetch(key_url, id_is_known=False)
        owner = key_owner(document)
        if owner is not None:
            if host_of(owner) != host_of(key_url):
                raise ResolveError(f"key {key_id} names an owner on another server")
            account = await self.actor(owner, refresh=True)
        else:
            account = await self._store_actor(document, id_of(document.get("id")) or key_url)
        if account.public_key_id != key_id:
            raise ResolveError(f"{account.uri} does not publish key {key_id}")
        return self._remember_key(key_id, account)

    def _cached_key(self, key_id: str) -> Account | None:
        """The signer of a key read less than 30 s ago, unless this process suspended or
        unsuspended an account since (other processes' changes show within the 30 s, and
        the inbox worker checks again before applying)."""
        found = self._keys.get(key_id)
        if found is None or found[0] < time.monotonic():
            return None
        if found[2] != self.store.suspensions_made:
            return None
        return found[1]

    def _remember_key(self, key_id: str, account: Account) -> Account:
        if key_id not in self._keys and len(self._keys) >= KEY_CACHE_SIZE:
            del self._keys[next(iter(self._keys))]  # the oldest entry
        expires = time.monotonic() + KEY_CACHE_SECONDS
        self._keys[key_id] = (expires, account, self.store.suspensions_made)
        return account

    def _may_refresh(self, key_id: str) -> bool:
        now = time.monotonic()
        if now - self._key_refreshed_at.get(key_id, -KEY_REFRESH_INTERVAL) < KEY_REFRESH_INTERVAL:
            return False
        self._key_refreshed_at[key_id] = now
        return True

    # -- WebFinger -----------------------------------------------------------

    async def webfinger(self, username: str, domain: str) -> Account:
        """Resolve user@domain to its actor via WebFinger (RFC 7033)."""
        scheme = "http" if self.config.federation.allow_http else "https"
        resource = quote(f"acct:{username}@{domain}", safe=":@")
        url = f"{scheme}://{domain}/.well-known/webfinger?resource={resource}"
        await self._refuse_suspended(host_of(url))
        try:
            _, document = await self.http.get_json(url, accept=JRD_ACCEPT, require_as2=False)
        except FetchError as exc:
            raise ResolveError(f"WebFinger for {username}@{domain} failed: {exc}") from exc
        links = document.get("links")
        for link in links if isinstance(links, list) else []:
            if (
                isinstance(link, dict)
                and link.get("rel") == "self"
                and link.get("type") in AS2_LINK_TYPES
                and isinstance(link.get("href"), str)
            ):
                return await self.actor(link["href"])
        raise ResolveError(f"WebFinger for {username}@{domain} has no ActivityPub actor")


def _parse_actor(document: dict[str, Any], uri: str) -> RemoteActor:
    try:
        actor = parse_actor(document)
    except InvalidDocument as exc:
        raise ResolveError(str(exc)) from exc
    if actor.uri != uri:
        raise ResolveError(f"{uri} is not an actor id (it serves {actor.uri})")
    return actor


def _account_row(actor: RemoteActor) -> dict[str, Any]:
    """Store columns for a remote actor (its profile HTML sanitised on the way in)."""
    return {
        "username": actor.username,
        "domain": host_of(actor.uri),
        "display_name": actor.display_name[:200],
        "note": sanitize_capped(actor.summary),  # a bio is remote HTML like a note
        "actor_type": actor.type,
        "locked": int(actor.locked),
        "uri": actor.uri,
        "url": actor.url,
        "inbox_url": actor.inbox,
        "shared_inbox_url": actor.shared_inbox,
        "outbox_url": actor.outbox,
        "followers_url": actor.followers,
        "following_url": actor.following,
        "public_key_id": actor.key_id,
        "public_key_pem": actor.public_key_pem,
        "avatar_url": actor.avatar_url,
        "header_url": actor.header_url,
        "fields": fields_to_json(
            [ProfileField(to_text(sanitize(f.name)), sanitize(f.value)) for f in actor.fields]
        ),
        "discoverable": int(actor.discoverable),
        "created_at": now_iso(),
        "fetched_at": time.time(),
    }
