"""Avatars and headers: an upload made into a safe image of the profile's shape.

The upload goes through the media pipeline's decoder (services/media.py: pixel limit
checked before decoding, EXIF orientation applied, metadata dropped), is cropped to the
shape Mastodon uses (avatar 400x400, header 1500x500; never scaled up) and stored in
the media storage under a fresh name.
"""

from __future__ import annotations

import asyncio

from PIL import Image, ImageOps

from fedchirp.config import MediaConfig
from fedchirp.media_storage import new_media_names
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid
from fedchirp.services.media import decode_image, encode_image

AVATAR_SIZE = (400, 400)
HEADER_SIZE = (1500, 500)


def _box_for(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The box's shape at most as large as the image (a small image is not scaled up)."""
    scale = min(1.0, size[0] / box[0], size[1] / box[1])
    return max(1, round(box[0] * scale)), max(1, round(box[1] * scale))


def fit_profile_image(
    data: bytes, settings: MediaConfig, box: tuple[int, int]
) -> tuple[bytes, str, str]:
    """(encoded image, extension, type), centre-cropped to the box's shape."""
    image, extension, mime_type = decode_image(data, settings)
    image = ImageOps.fit(image, _box_for(image.size, box), Image.Resampling.LANCZOS)
    return encode_image(image, mime_type), extension, mime_type


async def store_profile_image(ctx: Context, data: bytes, box: tuple[int, int]) -> str:
    """Check, crop and store an avatar or header; return its file name."""
    limit = ctx.config.media.max_upload_bytes
    if not data:
        raise Invalid("the image file is empty")
    if len(data) > limit:
        raise Invalid(f"the image is larger than {limit} bytes")
    encoded, extension, mime_type = await asyncio.to_thread(
        fit_profile_image, data, ctx.config.media, box
    )
    name, _ = new_media_names(extension)
    await ctx.media_storage.put(name, encoded, mime_type)
    return name
