"""The profile parts of an actor on the wire: avatar (icon), header (image), and profile
fields (attachment PropertyValue), as Mastodon publishes them.

Read here from remote actors (shape only: sanitising the HTML is the resolver's job, on
the way into the store) and built here for our own actor documents.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from typing import Any

# How many profile fields of a remote actor we keep, and how long each part may be.
# Mastodon lets its own users have 4; other software allows more, so we keep a few more.
MAX_REMOTE_FIELDS = 16
MAX_REMOTE_FIELD_NAME = 255
MAX_REMOTE_FIELD_VALUE = 2048
MAX_URL_LENGTH = 2048  # as for ids (federation/vocab.py)


@dataclass(frozen=True)
class ProfileField:
    name: str
    value: str  # HTML
    verified_at: str | None = None


def image_url(value: Any) -> str:
    """The URL of an icon/image value: an Image object (first of a list) or a link."""
    value = value[0] if isinstance(value, list) and value else value
    if isinstance(value, dict):
        value = value.get("url")
        value = value[0] if isinstance(value, list) and value else value
        if isinstance(value, dict):
            value = value.get("href")
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
        return ""
    return value if value.startswith(("https://", "http://")) else ""


def remote_fields(value: Any) -> tuple[ProfileField, ...]:
    """The PropertyValue attachments of a remote actor (other attachments are skipped)."""
    found = []
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, dict) or item.get("type") != "PropertyValue":
            continue
        name, text = item.get("name"), item.get("value")
        if isinstance(name, str) and isinstance(text, str):
            found.append(ProfileField(name[:MAX_REMOTE_FIELD_NAME], text[:MAX_REMOTE_FIELD_VALUE]))
        if len(found) == MAX_REMOTE_FIELDS:
            break
    return tuple(found)


def fields_from_json(text: str) -> list[ProfileField]:
    """The fields stored in accounts.fields (a JSON list); [] for anything unreadable."""
    try:
        items = json.loads(text or "[]")
    except ValueError:
        return []
    return [
        ProfileField(str(i.get("name", "")), str(i.get("value", "")), i.get("verified_at"))
        for i in items
        if isinstance(i, dict)
    ]


def fields_to_json(fields: list[ProfileField] | tuple[ProfileField, ...]) -> str:
    return json.dumps(
        [{"name": f.name, "value": f.value, "verified_at": f.verified_at} for f in fields],
        ensure_ascii=False,
    )


def image_document(url: str) -> dict[str, Any] | None:
    """An avatar or header as an Image object, with its type guessed from the name."""
    if not url:
        return None
    media_type = mimetypes.guess_type(url.split("?", 1)[0])[0] or "image/png"
    return {"type": "Image", "mediaType": media_type, "url": url}


def attachment_documents(fields_json: str) -> list[dict[str, Any]]:
    return [
        {"type": "PropertyValue", "name": f.name, "value": f.value}
        for f in fields_from_json(fields_json)
    ]
