"""Media in an S3-compatible bucket (AWS S3, MinIO, Garage, R2 ...), through aiobotocore.

Endpoint, region and credentials are always passed explicitly: botocore then has
nothing to look up, so it never asks the EC2 metadata service (or any other address)
for them. Objects carry their Content-Type and a long Cache-Control, so a CDN or the
bucket's own public URL can serve them directly (media.s3_public_url).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from fedchirp.config import Config, MediaConfig
from fedchirp.media_storage import StoredMedia, is_media_name

log = logging.getLogger(__name__)

# Names are never reused (media_storage.new_media_names), so a copy never goes stale.
CACHE_CONTROL = "public, max-age=31536000, immutable"
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3MediaStorage:
    def __init__(self, client: Any, bucket: str, public_base: str) -> None:
        self.client = client
        self.bucket = bucket
        self.public_base = public_base.rstrip("/")

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        await self.client.put_object(
            Bucket=self.bucket,
            Key=name,
            Body=data,
            ContentType=content_type,
            CacheControl=CACHE_CONTROL,
        )

    async def get(self, name: str) -> StoredMedia | None:
        if not is_media_name(name):
            return None
        try:
            answer = await self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        async with answer["Body"] as body:
            data = await body.read()
        return StoredMedia(data, answer.get("ContentType") or "application/octet-stream")

    async def delete(self, name: str) -> None:
        # Called once the post is already gone: an object left behind costs space, not
        # correctness, so a failure is logged rather than failing the deletion.
        try:
            await self.client.delete_object(Bucket=self.bucket, Key=name)
        except (BotoCoreError, ClientError) as exc:
            log.warning("could not delete media %s from bucket %s: %s", name, self.bucket, exc)

    def url(self, name: str) -> str:
        return f"{self.public_base}/{name}"


def _client_options(settings: MediaConfig) -> dict[str, Any]:
    return {
        "endpoint_url": settings.s3_endpoint_url,
        "region_name": settings.s3_region,
        "aws_access_key_id": settings.s3_access_key_id,
        "aws_secret_access_key": settings.s3_secret_access_key,
        "config": AioConfig(
            # Path-style URLs work on every S3-compatible store without wildcard DNS.
            s3={"addressing_style": "path"},
            # Only the checksums S3 requires: several S3-compatible stores refuse the
            # newer default ones.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=10,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    }


@contextlib.asynccontextmanager
async def open_s3_storage(config: Config) -> AsyncIterator[S3MediaStorage]:
    settings = config.media
    public_base = settings.s3_public_url or f"{config.base_url}/media"
    async with get_session().create_client("s3", **_client_options(settings)) as client:
        yield S3MediaStorage(client, settings.s3_bucket, public_base)
