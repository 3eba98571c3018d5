"""Custom emoji: ours, added by admins (images re-encoded here), and other servers',
kept from the Emoji tags of their posts; which of them a text uses."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

from PIL import Image, UnidentifiedImageError

from fedchirp.clock import now_iso
from fedchirp.federation.emoji_tags import EMOJI_SHORTCODE, EmojiTag
from fedchirp.media_storage import MediaStorage, new_media_names
from fedchirp.services.context import Context
from fedchirp.services.errors import Conflict, Invalid, NotFound
from fedchirp.store import Store
from fedchirp.store.models import CustomEmoji

MAX_BYTES = 256 * 1024  # of the stored image, as Mastodon's limit for local emoji
MAX_SIDE = 400
MAX_INPUT_BYTES = 4 * 1024 * 1024
MAX_INPUT_PIXELS = 4096 * 4096
USED = re.compile(r":([A-Za-z0-9_]{2,64}):")


def used_in(*texts: str) -> set[str]:
    """The :shortcode:s these texts name."""
    return {code for text in texts for code in USED.findall(text or "")}


def image_url(storage: MediaStorage, emoji: CustomEmoji) -> str:
    return storage.url(emoji.image_file) if emoji.image_file else emoji.image_url


def static_url(storage: MediaStorage, emoji: CustomEmoji) -> str:
    return emoji.static_url or image_url(storage, emoji)


def reencode(data: bytes) -> bytes:
    """The image as a PNG at most MAX_SIDE pixels a side and MAX_BYTES long (animation is
    not kept: the first frame is the emoji)."""
    if len(data) > MAX_INPUT_BYTES:
        raise Invalid(f"the image is larger than {MAX_INPUT_BYTES // 1024 // 1024} MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_INPUT_PIXELS:
                raise Invalid("the image has too many pixels")
            image.seek(0)
            frame = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise Invalid("the file is not an image Pillow can read") from exc
    frame.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    frame.save(out, "PNG", optimize=True)
    if out.tell() > MAX_BYTES:
        raise Invalid(f"the image is larger than {MAX_BYTES // 1024} KB once re-encoded")
    return out.getvalue()


async def add_local(
    store: Store,
    storage: MediaStorage,
    base_url: str,
    shortcode: str,
    data: bytes,
    category: str | None = None,
) -> CustomEmoji:
    """Add one of our emoji from an image file's bytes."""
    if not EMOJI_SHORTCODE.fullmatch(shortcode):
        raise Invalid("a shortcode is 2 to 64 letters, digits or underscores")
    if await store.get_emoji(shortcode) is not None:
        raise Conflict(f":{shortcode}: exists already")
    png = reencode(data)
    name = new_media_names("png")[0]
    await storage.put(name, png, "image/png")
    return await store.insert_emoji(
        {
            "shortcode": shortcode,
            "domain": "",
            "image_file": name,
            "category": category or None,
            "uri": f"{base_url.rstrip('/')}/emojis/{shortcode}",
            "updated_at": now_iso(),
        }
    )


async def remove_local(store: Store, storage: MediaStorage, shortcode: str) -> CustomEmoji:
    emoji = await store.get_emoji(shortcode)
    if emoji is None:
        raise NotFound(f"there is no :{shortcode}: here")
    await store.delete_emoji(emoji.id)
    if emoji.image_file:
        await storage.delete(emoji.image_file)
    return emoji


async def remember(ctx: Context, tags: Iterable[EmojiTag], domain: str) -> None:
    """Keep the emoji a remote post or profile uses (their images stay on their server)."""
    if not domain:
        return  # only an admin adds ours
    for tag in tags:
        await ctx.store.save_remote_emoji(domain, tag.shortcode, tag.url, tag.uri)


async def remember_for(ctx: Context, tags: Iterable[EmojiTag], account_id: int) -> None:
    """remember() for the server of this account."""
    author = await ctx.store.get_account(account_id)
    if author is not None:
        await remember(ctx, tags, author.domain)


async def note_tags(ctx: Context, *texts: str) -> list[dict[str, Any]]:
    """Emoji tags for the local emoji these texts use, as Mastodon puts them on a Note."""
    found = await ctx.store.emojis_named((code, "") for code in used_in(*texts))
    return [
        {
            "id": emoji.uri,
            "type": "Emoji",
            "name": f":{emoji.shortcode}:",
            "updated": emoji.updated_at,
            "icon": {
                "type": "Image",
                "mediaType": "image/png",
                "url": image_url(ctx.media_storage, emoji),
            },
        }
        for emoji in sorted(found, key=lambda e: e.shortcode)
    ]
