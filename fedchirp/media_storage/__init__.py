"""Where uploaded media live: a local directory (the default) or S3-compatible object storage.

Names are ours: services/media.py makes them (a random hex token, "-small" for the
preview, an extension). get() answers None for any other shape, so GET /media/{name}
on the object-storage backend cannot be used to read other keys of the bucket, nor a
path outside the media directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fedchirp.config import Config

MEDIA_NAME = re.compile(r"[0-9a-f]{32}(?:-small)?\.[a-z0-9]{2,5}")


def new_media_names(extension: str) -> tuple[str, str]:
    """Fresh names for an upload and its preview; never reused, so safe to cache forever."""
    token = secrets.token_hex(16)
    return f"{token}.{extension}", f"{token}-small.{extension}"


def is_media_name(name: str) -> bool:
    return MEDIA_NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class StoredMedia:
    data: bytes
    content_type: str


class MediaStorage(Protocol):
    async def put(self, name: str, data: bytes, content_type: str) -> None: ...

    async def get(self, name: str) -> StoredMedia | None: ...

    async def delete(self, name: str) -> None: ...

    def url(self, name: str) -> str: ...


class LocalMediaStorage:
    """Files in one directory, served by this process at {base}/media/{name}."""

    def __init__(self, folder: Path, base_url: str) -> None:
        self.folder = folder
        self.base_url = base_url

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        # The type follows from the extension when the file is served; nothing to keep.
        self.folder.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread((self.folder / name).write_bytes, data)

    async def get(self, name: str) -> StoredMedia | None:
        if not is_media_name(name):
            return None
        try:
            data = await asyncio.to_thread((self.folder / name).read_bytes)
        except FileNotFoundError:
            return None
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return StoredMedia(data, content_type)

    async def delete(self, name: str) -> None:
        (self.folder / name).unlink(missing_ok=True)

    def url(self, name: str) -> str:
        return f"{self.base_url}/media/{name}"


@contextlib.asynccontextmanager
async def open_media_storage(config: Config) -> AsyncIterator[MediaStorage]:
    """The storage config.media names, open while inside (one S3 client per process)."""
    if config.media.backend == "local":
        yield LocalMediaStorage(config.media_dir, config.base_url)
        return
    # Imported here: botocore takes a while to load, and local instances never need it.
    from fedchirp.media_storage.s3 import open_s3_storage

    async with open_s3_storage(config) as storage:
        yield storage
