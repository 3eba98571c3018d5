"""ActivityStreams 2 at the edge: parse remote JSON into typed records (ours are built
in documents.py).

Nothing past this module reads raw remote JSON. Parsers check shape (ids are
http(s) URLs, required fields present, types right) and raise InvalidDocument
with a reason; they do not decide what is allowed, which is the services' job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fedchirp.clock import parse_iso
from fedchirp.federation import names
from fedchirp.federation.emoji_tags import EmojiTag, parse_emoji_tags
from fedchirp.federation.profile import ProfileField, image_url, remote_fields
from fedchirp.federation.questions import RemotePoll, parse_poll
from fedchirp.federation.values import (
    as_list,
    host_of,
    id_of,
    ids_of,
    is_http_uri,
)
from fedchirp.html import tag_key

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
_PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question"})


class InvalidDocument(ValueError):
    """A remote document does not have the shape we need; str(exc) says what is wrong."""


# -- small readers ------------------------------------------------------------


def is_public(address: str) -> bool:
    return address in _PUBLIC_ALIASES


def same_origin(a: str, b: str) -> bool:
    return bool(host_of(a)) and host_of(a) == host_of(b)


def normalize_audience(value: Any) -> tuple[str, ...]:
    """Addressing list with every spelling of Public written as the full IRI."""
    return tuple(PUBLIC if is_public(i) else i for i in ids_of(value))


def _require_uri(document: dict[str, Any], key: str, what: str) -> str:
    value = id_of(document.get(key))
    if not is_http_uri(value):
        raise InvalidDocument(f"{what} has no valid {key}")
    return value  # type: ignore[return-value]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _username(value: Any, uri: str) -> str:
    """A remote preferredUsername in NFC; refused if it hides bidi, zero-width or other
    control/format characters (`ad\u202emin\u200b` would be shown as a different acct)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidDocument(f"actor {uri} has no preferredUsername")
    if names.hides_characters(value):
        raise InvalidDocument(f"actor {uri} has control or format characters in its username")
    return names.nfc(value.strip())


def _display_text(value: Any) -> str:
    """A remote display name in NFC, with bidi, zero-width and control characters dropped."""
    return names.cleaned(_text(value))


def _first_type(document: dict[str, Any]) -> str:
    kinds = [k for k in as_list(document.get("type")) if isinstance(k, str)]
    if not kinds:
        raise InvalidDocument("document has no type")
    return kinds[0]


# -- actors -------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteActor:
    uri: str
    type: str
    username: str
    display_name: str
    summary: str
    url: str
    inbox: str
    shared_inbox: str | None
    outbox: str
    followers: str
    following: str
    key_id: str
    public_key_pem: str
    locked: bool
    avatar_url: str
    header_url: str = ""
    fields: tuple[ProfileField, ...] = ()  # HTML values, not sanitised yet
    discoverable: bool = False
    featured_tags: str = ""  # its toot:featuredTags collection, on its own server


def parse_actor(document: dict[str, Any]) -> RemoteActor:
    uri = _require_uri(document, "id", "actor")
    kind = _first_type(document)
    if kind not in ACTOR_TYPES:
        raise InvalidDocument(f"{uri} is a {kind}, not an actor")
    username = _username(document.get("preferredUsername"), uri)
    inbox = _require_uri(document, "inbox", "actor")
    key_id, pem = _actor_key(document, uri)
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    shared = id_of(endpoints.get("sharedInbox"))
    return RemoteActor(
        uri=uri,
        type=kind,
        username=username,
        display_name=_display_text(document.get("name")),
        summary=_text(document.get("summary")),
        url=id_of(document.get("url")) or uri,
        inbox=inbox,
        shared_inbox=shared if is_http_uri(shared) else None,
        outbox=id_of(document.get("outbox")) or "",
        followers=id_of(document.get("followers")) or "",
        following=id_of(document.get("following")) or "",
        key_id=key_id,
        public_key_pem=pem,
        locked=document.get("manuallyApprovesFollowers") is True,
        avatar_url=image_url(document.get("icon")),
        header_url=image_url(document.get("image")),
        fields=remote_fields(document.get("attachment")),
        discoverable=document.get("discoverable") is True,
        featured_tags=_own_collection(document.get("featuredTags"), uri),
    )


def _own_collection(value: Any, actor_uri: str) -> str:
    """A collection the actor names on its own server; "" for anything else."""
    uri = id_of(value)
    return uri if is_http_uri(uri) and same_origin(uri, actor_uri) else ""  # type: ignore[return-value]


def _actor_key(document: dict[str, Any], actor_uri: str) -> tuple[str, str]:
    """The actor's RSA key as (key id, PEM). Keys must belong to the actor."""
    for key in as_list(document.get("publicKey")):
        if not isinstance(key, dict):
            continue
        key_id, pem, owner = key.get("id"), key.get("publicKeyPem"), key.get("owner", actor_uri)
        if is_http_uri(key_id) and isinstance(pem, str) and "PUBLIC KEY" in pem:
            if owner != actor_uri or not same_origin(key_id, actor_uri):
                raise InvalidDocument(f"key {key_id} is not owned by {actor_uri}")
            return key_id, pem
    raise InvalidDocument(f"actor {actor_uri} has no publicKey")


def key_owner(document: dict[str, Any]) -> str | None:
    """For a fetched keyId that is a standalone key document, the owner it names."""
    if isinstance(document.get("publicKeyPem"), str) and is_http_uri(document.get("owner")):
        return document["owner"]
    return None


# -- activities ---------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    id: str
    type: str
    actor: str
    object_id: str | None
    object: dict[str, Any] | None  # embedded object, when the activity carried one
    to: tuple[str, ...]
    cc: tuple[str, ...]
    raw: dict[str, Any]

    @property
    def object_type(self) -> str | None:
        if self.object is None:
            return None
        kinds = [k for k in as_list(self.object.get("type")) if isinstance(k, str)]
        return kinds[0] if kinds else None


def parse_activity(document: dict[str, Any]) -> Activity:
    """Shape-check an incoming activity. Its id must share the actor's origin."""
    kind = _first_type(document)
    actor = _require_uri(document, "actor", kind)
    activity_id = _require_uri(document, "id", kind)
    if not same_origin(activity_id, actor):
        raise InvalidDocument(f"{kind} id {activity_id} is not on the actor's server")
    obj = document.get("object")
    if kind == "Flag" and isinstance(obj, list):
        # A Flag names the reported account and its posts: object_id is the first,
        # the handler reads the rest from raw.
        obj = next(iter(ids_of(obj)), None)
    embedded = obj if isinstance(obj, dict) else None
    object_id = id_of(obj)
    if obj is not None and object_id is None and embedded is None:
        raise InvalidDocument(f"{kind} object is neither an id nor an object")
    return Activity(
        id=activity_id,
        type=kind,
        actor=actor,
        object_id=object_id,
        object=embedded,
        to=normalize_audience(document.get("to")),
        cc=normalize_audience(document.get("cc")),
        raw=document,
    )


def parse_embedded_activity(document: dict[str, Any]) -> Activity:
    """Parse an activity nested in another (the object of Accept, Undo...).

    Nested activities sometimes lack ids (some servers omit them on Undo), so a
    missing id is tolerated; the actor is still required.
    """
    if not isinstance(document.get("id"), str):
        document = {**document, "id": f"{_require_uri(document, 'actor', 'activity')}#embedded"}
    return parse_activity(document)


# -- notes --------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteAttachment:
    url: str
    media_type: str
    name: str
    blurhash: str | None
    width: int | None
    height: int | None
    focus: tuple[float, float]


def _attachment(value: Any) -> RemoteAttachment | None:
    """An attachment of a remote post (Document/Image/...), or None if unusable."""
    if not isinstance(value, dict):
        return None
    url = value.get("url")
    if isinstance(url, list):
        url = url[0] if url else None
    media_type = value.get("mediaType")
    if isinstance(url, dict):
        media_type = media_type or url.get("mediaType")
        url = url.get("href")
    if not is_http_uri(url):
        return None
    focus = value.get("focalPoint")
    if not (
        isinstance(focus, list)
        and len(focus) == 2
        and all(isinstance(f, int | float) and -1 <= f <= 1 for f in focus)
    ):
        focus = [0.0, 0.0]
    width, height = value.get("width"), value.get("height")
    return RemoteAttachment(
        url=url,
        media_type=media_type if isinstance(media_type, str) else "application/octet-stream",
        name=_text(value.get("name")),
        blurhash=value.get("blurhash") if isinstance(value.get("blurhash"), str) else None,
        width=width if isinstance(width, int) else None,
        height=height if isinstance(height, int) else None,
        focus=(float(focus[0]), float(focus[1])),
    )


@dataclass(frozen=True)
class Note:
    id: str
    type: str
    attributed_to: str
    content: str
    summary: str
    sensitive: bool
    published: datetime | None
    updated: datetime | None
    in_reply_to: str | None
    url: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    mentions: tuple[str, ...]  # actor ids named by Mention tags
    hashtags: tuple[str, ...]
    language: str | None
    attachments: tuple[RemoteAttachment, ...] = ()
    emojis: tuple[EmojiTag, ...] = ()
    name: str = ""  # a poll vote's chosen option; otherwise a title, if any
    poll: RemotePoll | None = None  # a Question's options and counts

    @property
    def audience(self) -> tuple[str, ...]:
        return self.to + self.cc


def parse_note(document: dict[str, Any]) -> Note:
    note_id = _require_uri(document, "id", "object")
    kind = _first_type(document)
    if kind not in NOTE_TYPES:
        raise InvalidDocument(f"{note_id} is a {kind}, not a note")
    author = id_of(
        as_list(document.get("attributedTo"))[0] if document.get("attributedTo") else None
    )
    if not is_http_uri(author):
        raise InvalidDocument(f"{kind} {note_id} has no attributedTo")
    content = document.get("content")
    if not isinstance(content, str):
        content = _text(document.get("name"))
    mentions, hashtags = [], []
    for tag in as_list(document.get("tag")):
        if not isinstance(tag, dict):
            continue
        if tag.get("type") == "Mention" and is_http_uri(tag.get("href")):
            mentions.append(tag["href"])
        elif tag.get("type") == "Hashtag" and isinstance(tag.get("name"), str):
            hashtags.append(tag_key(tag["name"]))
    language = None
    content_map = document.get("contentMap")
    if isinstance(content_map, dict) and content_map:
        language = next(iter(content_map))
    url = document.get("url")
    return Note(
        id=note_id,
        type=kind,
        attributed_to=author,  # type: ignore[arg-type]
        content=content,
        summary=_text(document.get("summary")),
        sensitive=document.get("sensitive") is True,
        published=parse_iso(document.get("published")),
        updated=parse_iso(document.get("updated")),
        in_reply_to=id_of(document.get("inReplyTo")),
        url=(id_of(as_list(url)[0]) if url else None) or note_id,
        to=normalize_audience(document.get("to")),
        cc=normalize_audience(document.get("cc")),
        mentions=tuple(mentions),
        hashtags=tuple(hashtags),
        language=language,
        attachments=tuple(
            a for a in (_attachment(v) for v in as_list(document.get("attachment"))[:8]) if a
        ),
        emojis=parse_emoji_tags(document.get("tag")),
        name=_text(document.get("name")),
        poll=parse_poll(document) if kind == "Question" else None,
    )
