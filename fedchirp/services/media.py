"""Media attachments: turning an upload into a safe image, and describing remote ones.

Every upload is decoded and re-encoded by Pillow (unless its header says it has more
than media.max_decode_pixels, which is refused before decoding): rotated as its EXIF says,
scaled down to media.max_pixels, and saved without any metadata (EXIF carries
camera serials and GPS positions). A small preview and a blurhash placeholder
are made at the same time. Decoding runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import blurhash
from PIL import Image, ImageOps, UnidentifiedImageError

from fedchirp.clock import now_iso
from fedchirp.config import MediaConfig
from fedchirp.federation.vocab import RemoteAttachment
from fedchirp.media_storage import new_media_names
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound
from fedchirp.store.models import Account, MediaAttachment

# Decoded formats we accept, and how we re-encode them.
_OUTPUT = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("png", "image/png"),
}
MAX_DESCRIPTION = 1500
# Pillow refuses images whose pixel count suggests a decompression bomb.
Image.MAX_IMAGE_PIXELS = 100_000_000


@dataclass(frozen=True)
class ProcessedImage:
    original: bytes
    preview: bytes
    extension: str
    mime_type: str
    size: tuple[int, int]
    preview_size: tuple[int, int]
    blurhash: str


def _fit(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    width, height = size
    if width * height <= max_pixels:
        return size
    scale = math.sqrt(max_pixels / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _check_pixels(size: tuple[int, int], limit: int) -> None:
    width, height = size
    if width * height > limit:
        raise Invalid(
            f"the image is {width}x{height}, {width * height / 1e6:.1f} megapixels; "
            f"images of more than {limit / 1e6:g} megapixels are not accepted"
        )


def decode_image(data: bytes, settings: MediaConfig) -> tuple[Image.Image, str, str]:
    """Decode and orient an image (its pixel count checked from the header first), in
    RGB or RGBA; return it with the extension and type it is re-encoded as."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            kind = opened.format or ""
            if kind not in _OUTPUT:
                raise Invalid(f"{kind or 'this file'} is not a supported image type")
            _check_pixels(opened.size, settings.max_decode_pixels)  # from the header alone
            opened.seek(0)  # animated GIF/WebP: the first frame
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise Invalid("the file is not an image we can read") from exc
    extension, mime_type = _OUTPUT[kind]
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha and mime_type != "image/jpeg" else "RGB")
    return image, extension, mime_type


def process_image(data: bytes, settings: MediaConfig) -> ProcessedImage:
    """Decode, orient, scale and re-encode an image (no metadata survives)."""
    image, extension, mime_type = decode_image(data, settings)
    image = image.resize(_fit(image.size, settings.max_pixels), Image.Resampling.LANCZOS)
    preview = image.copy()
    preview.thumbnail(_fit(image.size, settings.preview_pixels), Image.Resampling.LANCZOS)
    return ProcessedImage(
        original=encode_image(image, mime_type),
        preview=encode_image(preview, mime_type),
        extension=extension,
        mime_type=mime_type,
        size=image.size,
        preview_size=preview.size,
        blurhash=_blurhash(preview),
    )


def encode_image(image: Image.Image, mime_type: str) -> bytes:
    """The image in its format, without metadata."""
    out = io.BytesIO()
    if mime_type == "image/jpeg":
        image.save(out, "JPEG", quality=85, optimize=True)  # no exif= : metadata dropped
    elif mime_type == "image/webp":
        image.save(out, "WEBP", quality=85)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _blurhash(image: Image.Image) -> str:
    tiny = image.convert("RGB")
    tiny.thumbnail((32, 32))
    pixels = [[tiny.getpixel((x, y)) for x in range(tiny.width)] for y in range(tiny.height)]
    return blurhash.encode(pixels, components_x=4, components_y=3)


def _focus(value: str | None) -> tuple[float, float]:
    """Mastodon's focus "x,y", each from -1.0 to 1.0."""
    if not value:
        return 0.0, 0.0
    try:
        x, y = (float(part) for part in value.split(","))
    except ValueError:
        raise Invalid("focus must be two numbers like 0.5,-0.2") from None
    if not (-1 <= x <= 1 and -1 <= y <= 1):
        raise Invalid("focus values must be between -1.0 and 1.0")
    return x, y


def _description(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise Invalid(f"description is longer than {MAX_DESCRIPTION} characters")
    return text


async def upload(
    ctx: Context, account: Account, data: bytes, description: str | None, focus: str | None
) -> MediaAttachment:
    settings = ctx.config.media
    if not data:
        raise Invalid("file can't be empty")
    if len(data) > settings.max_upload_bytes:
        raise Invalid(f"file is larger than {settings.max_upload_bytes} bytes")
    focus_x, focus_y = _focus(focus)
    text = _description(description)
    image = await asyncio.to_thread(process_image, data, settings)
    file_name, preview_name = new_media_names(image.extension)
    await asyncio.gather(
        ctx.media_storage.put(file_name, image.original, image.mime_type),
        ctx.media_storage.put(preview_name, image.preview, image.mime_type),
    )
    return await ctx.store.insert_media(
        {
            "account_id": account.id,
            "type": "image",
            "mime_type": image.mime_type,
            "file_name": file_name,
            "preview_name": preview_name,
            "width": image.size[0],
            "height": image.size[1],
            "preview_width": image.preview_size[0],
            "preview_height": image.preview_size[1],
            "size": len(image.original),
            "description": text,
            "blurhash": image.blurhash,
            "focus_x": focus_x,
            "focus_y": focus_y,
            "created_at": now_iso(),
        }
    )


async def own_media(ctx: Context, account: Account, media_id: int) -> MediaAttachment:
    media = await ctx.store.get_media(media_id)
    if media is None or media.account_id != account.id:
        raise NotFound("media not found")
    return media


async def update(
    ctx: Context, account: Account, media_id: int, description: str | None, focus: str | None
) -> MediaAttachment:
    media = await own_media(ctx, account, media_id)
    changes: dict[str, Any] = {}
    if description is not None:
        changes["description"] = _description(description)
    if focus is not None:
        changes["focus_x"], changes["focus_y"] = _focus(focus)
    if changes:
        await ctx.store.update_media(media.id, **changes)
    return await own_media(ctx, account, media_id)


async def attachable(ctx: Context, account: Account, media_ids: Sequence[int]) -> list[int]:
    """Check uploads can go on a new post: the author's own, not used yet, few enough."""
    limit = ctx.config.media.max_attachments
    if len(media_ids) > limit:
        raise Invalid(f"a post can have at most {limit} attachments")
    for media_id in media_ids:
        media = await own_media(ctx, account, media_id)
        if media.status_id is not None:
            raise Invalid(f"media {media_id} is already attached to a post")
    return list(dict.fromkeys(media_ids))


async def remove_files(ctx: Context, attachments: Sequence[MediaAttachment]) -> None:
    for media in attachments:
        for name in (media.file_name, media.preview_name):
            if name:
                await ctx.media_storage.delete(name)


def url_of(ctx: Context, name: str | None) -> str | None:
    return ctx.media_storage.url(name) if name else None


def remote_rows(attachments: Sequence[RemoteAttachment]) -> list[dict[str, Any]]:
    """Store columns for a remote post's attachments (we link to them, not copy them)."""
    return [
        {
            "type": "image" if a.media_type.startswith("image/") else "unknown",
            "mime_type": a.media_type,
            "remote_url": a.url,
            "width": a.width,
            "height": a.height,
            "description": a.name[:MAX_DESCRIPTION],
            "blurhash": a.blurhash,
            "focus_x": a.focus[0],
            "focus_y": a.focus[1],
        }
        for a in attachments
    ]
