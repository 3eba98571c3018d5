"""Media on S3-compatible object storage, against moto's S3 server on 127.0.0.1.

The instances talk to moto over real HTTP with their own aiobotocore client; the
tests read the bucket with a plain client of their own. The point of the backend is
several web machines without a shared disk, so a second web process with a data
directory of its own, sharing only the database and the bucket, must serve the same
uploads.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from PIL import Image

from fedchirp.config import ConfigError, config_from_dict
from fedchirp.localnet import ApiClient
from tests.instance_processes import free_port

ACCESS_KEY = "fedchirp-test"
SECRET_KEY = "fedchirp-test-secret"
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Nothing from the developer's environment or ~/.aws: the config must be enough."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
async def s3(s3_endpoint: str) -> AsyncIterator[Any]:
    """A plain client of the test's own, to look into the bucket."""
    async with get_session().create_client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    ) as client:
        yield client


@pytest.fixture
async def bucket(s3: Any) -> str:
    name = f"media-{uuid.uuid4().hex[:12]}"
    await s3.create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str, bucket: str, **extra: str) -> dict[str, Any]:
    return {
        "media": {
            "backend": "s3",
            "s3_endpoint_url": endpoint,
            "s3_region": REGION,
            "s3_bucket": bucket,
            "s3_access_key_id": ACCESS_KEY,
            "s3_secret_access_key": SECRET_KEY,
            **extra,
        }
    }


def _png() -> bytes:
    image = Image.new("RGB", (64, 48), (30, 140, 60))
    image.paste((240, 200, 10), (0, 0, 32, 24))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def upload(api: ApiClient) -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("file", _png(), filename="flag.png", content_type="image/png")
    form.add_field("description", "a flag")
    return await api.call("POST", "/api/v2/media", data=form)


async def post_with(api: ApiClient, media: dict[str, Any]) -> dict[str, Any]:
    body = {"status": "look", "media_ids": [media["id"]]}
    return await api.call("POST", "/api/v1/statuses", json=body)


def name_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def fetch(http: aiohttp.ClientSession, url: str) -> tuple[int, str, bytes]:
    async with http.get(url) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.read()


async def in_bucket(s3: Any, bucket: str, key: str) -> tuple[str, bytes] | None:
    try:
        answer = await s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "NoSuchKey"
        return None
    async with answer["Body"] as body:
        return answer["ContentType"], await body.read()


# -- the s3 backend ---------------------------------------------------------------------


async def test_uploads_go_to_the_bucket_and_every_web_process_serves_them(
    start, client, http, s3, s3_endpoint, bucket
):
    a = await start("a", settings=s3_settings(s3_endpoint, bucket))
    await a.create_user("alice")
    alice = await client(a, "alice")
    media = await upload(alice)
    name, preview = name_of(media["url"]), name_of(media["preview_url"])
    assert media["url"] == f"{a.base_url}/media/{name}"

    stored = await in_bucket(s3, bucket, name)
    assert stored is not None and stored[0] == "image/png"
    assert (await in_bucket(s3, bucket, preview) or ("", b""))[0] == "image/png"
    assert not a.config.media_dir.exists() or not any(a.config.media_dir.iterdir())

    status, content_type, data = await fetch(http, media["url"])
    assert (status, content_type, data) == (200, "image/png", stored[1])
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (64, 48)

    # A second web machine: its own (empty) data directory, the same database and bucket,
    # the same public domain behind the load balancer.
    b = await start(
        "b",
        settings={
            **s3_settings(s3_endpoint, bucket),
            "server": {"domain": a.domain},
            "database": {"url": f"sqlite+aiosqlite:///{a.config.database_path}"},
        },
        run_workers=False,
    )
    assert b.config.data_dir != a.config.data_dir
    b_root = f"http://127.0.0.1:{b.port}"
    auth = {"Authorization": f"Bearer {alice.token}"}
    async with http.get(f"{b_root}/api/v1/media/{media['id']}", headers=auth) as resp:
        assert (await resp.json())["url"] == media["url"]
    assert await fetch(http, f"{b_root}/media/{name}") == (200, "image/png", stored[1])

    # Deleting the post deletes its objects; neither web process serves them any more.
    post = await post_with(alice, media)
    await alice.call("DELETE", f"/api/v1/statuses/{post['id']}")
    assert await in_bucket(s3, bucket, name) is None
    assert await in_bucket(s3, bucket, preview) is None
    for root in (a.base_url, b_root):
        assert (await fetch(http, f"{root}/media/{name}"))[0] == 404


async def test_only_names_we_generate_are_served(start, client, http, s3, s3_endpoint, bucket):
    a = await start("a", settings=s3_settings(s3_endpoint, bucket))
    await a.create_user("alice")
    media = await upload(await client(a, "alice"))
    name = name_of(media["url"])
    await s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"not yours")
    await s3.put_object(Bucket=bucket, Key="a/" + name, Body=b"not yours")

    bad = [
        "secret.txt",
        name.upper(),
        name + ".txt",
        name.replace(".png", "-large.png"),
        "0" * 32 + ".png",  # the right shape, but no such object
        "..%2Fsecret.txt",
        "a%2F" + name,
    ]
    for candidate in bad:
        status, _, body = await fetch(http, f"{a.base_url}/media/{candidate}")
        assert status == 404, candidate
        assert b"not yours" not in body
    assert (await fetch(http, media["url"]))[0] == 200


async def test_with_a_public_url_links_point_at_it(start, client, http, s3, s3_endpoint, bucket):
    settings = s3_settings(s3_endpoint, bucket, s3_public_url="https://cdn.example/chirp/")
    a = await start("a", settings=settings)
    await a.create_user("alice")
    media = await upload(await client(a, "alice"))
    name = name_of(media["url"])
    assert media["url"] == f"https://cdn.example/chirp/{name}"
    assert media["preview_url"].startswith("https://cdn.example/chirp/")
    stored = await in_bucket(s3, bucket, name)
    assert stored is not None
    # Links sent to other servers before the switch still work.
    assert await fetch(http, f"{a.base_url}/media/{name}") == (200, "image/png", stored[1])


# -- the local backend, unchanged -------------------------------------------------------


async def test_the_local_backend_keeps_files_in_media_dir(start, client, http):
    a = await start("a")
    assert a.config.media.backend == "local"
    await a.create_user("alice")
    alice = await client(a, "alice")
    media = await upload(alice)
    name = name_of(media["url"])
    assert media["url"] == f"{a.base_url}/media/{name}"
    path = a.config.media_dir / name
    assert (a.config.media_dir / name_of(media["preview_url"])).is_file()
    assert await fetch(http, media["url"]) == (200, "image/png", path.read_bytes())

    post = await post_with(alice, media)
    await alice.call("DELETE", f"/api/v1/statuses/{post['id']}")
    assert not any(a.config.media_dir.iterdir())
    assert (await fetch(http, media["url"]))[0] == 404


# -- configuration ----------------------------------------------------------------------


def _s3(**changes: str) -> dict[str, Any]:
    settings = s3_settings("http://127.0.0.1:9000", "media")
    settings["media"].update(changes)
    return settings


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"media": {"backend": "ftp"}}, "media.backend must be 'local' or 's3'"),
        ({"media": {"backend": "s3"}}, "media.backend 's3' needs media.s3_bucket, "),
        (_s3(s3_bucket=""), "needs media.s3_bucket"),
        (_s3(s3_region=""), "needs media.s3_region"),
        (_s3(s3_secret_access_key="", s3_access_key_id=""), "needs media.s3_access_key_id, "),
        (_s3(s3_secret_access_key=""), "needs media.s3_secret_access_key"),
        (_s3(s3_endpoint_url=""), "needs media.s3_endpoint_url"),
        (_s3(s3_endpoint_url="127.0.0.1:9000"), "media.s3_endpoint_url must be an http"),
        (_s3(s3_public_url="cdn.example"), "media.s3_public_url must be an http"),
        ({"media": {"s3_port": 9000}}, "unknown setting media.s3_port"),
    ],
)
def test_bad_storage_settings_are_refused_with_a_reason(data, message):
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "fedchirp-test-secret" not in str(caught.value)


def test_complete_s3_settings_are_accepted():
    config = config_from_dict(_s3(s3_public_url="https://cdn.example/media"))
    assert config.media.backend == "s3" and config.media.s3_bucket == "media"
    # Local settings need nothing else, whatever s3_* say.
    assert config_from_dict({"media": {"s3_bucket": "x"}}).media.backend == "local"
