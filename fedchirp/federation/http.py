"""The one outbound HTTP client: SSRF-guarded, size-limited, signing when asked."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import aiohttp

from fedchirp import SOFTWARE_NAME, __version__
from fedchirp.clock import utcnow
from fedchirp.config import Config
from fedchirp.federation.httpsig import sign_request
from fedchirp.federation.ssrf import BlockedAddress, GuardedResolver, check_url
from fedchirp.jsonlimit import TooDeep, check_depth

ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS2 = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACCEPT_ACTIVITY = f"{ACTIVITY_JSON}, {LD_JSON_AS2}"
MAX_REDIRECTS = 3
HTML_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(Exception):
    """A remote document could not be fetched; status is the HTTP status if there was one.
    transient: trying again later may work (the network, a timeout, 5xx, 429)."""

    def __init__(self, message: str, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient or (status is not None and (status >= 500 or status == 429))


@dataclass(frozen=True)
class Signer:
    """Who signs a request: a key id and its private key."""

    key_id: str
    private_key_pem: str


@dataclass(frozen=True)
class PostResult:
    status: int
    retry_after: float | None  # seconds, from a Retry-After header
    reason: str


def is_activity_json(content_type: str) -> bool:
    """What we accept in an inbox POST: activity+json, ld+json or plain JSON."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media in (ACTIVITY_JSON, "application/ld+json", "application/json")


def is_as2_document(content_type: str) -> bool:
    """What a fetched document must be served as to be believed (Mastodon's rule):
    activity+json, or ld+json whose profile names ActivityStreams. Anything else
    (a user's uploaded .json file, say) could be made to look like an actor."""
    media, _, rest = content_type.partition(";")
    media = media.strip().lower()
    if media == ACTIVITY_JSON:
        return True
    if media != "application/ld+json":
        return False
    for parameter in rest.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "profile" and "https://www.w3.org/ns/activitystreams" in (
            value.strip('"').split()
        ):
            return True
    return False


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


async def _read_up_to(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body's first limit bytes (one read may return less than is coming)."""
    body = b""
    while len(body) < limit:
        chunk = await resp.content.read(limit - len(body))
        if not chunk:
            break
        body += chunk
    return body


class HttpClient:
    def __init__(self, config: Config, session: aiohttp.ClientSession) -> None:
        self.config = config
        self.session = session

    @classmethod
    def create(cls, config: Config) -> HttpClient:
        federation = config.federation
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(allow_private=federation.allow_private_addresses),
            limit=64,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=federation.fetch_timeout_seconds),
            headers={"User-Agent": f"{SOFTWARE_NAME}/{__version__} (+{config.base_url}/)"},
        )
        return cls(config, session)

    async def close(self) -> None:
        await self.session.close()

    def check_url(self, url: str) -> None:
        federation = self.config.federation
        try:
            check_url(url, federation.allow_http, federation.allow_private_addresses)
        except BlockedAddress as exc:
            raise FetchError(str(exc)) from exc

    async def get_json(
        self,
        url: str,
        signer: Signer | None = None,
        accept: str = ACCEPT_ACTIVITY,
        require_as2: bool = True,
    ) -> tuple[str, dict[str, Any]]:
        """GET a JSON document (signing it if a signer is given); return (final url, doc).

        With require_as2 the answer must be served as an ActivityStreams document."""
        for _hop in range(MAX_REDIRECTS + 1):
            self.check_url(url)
            headers = {"Accept": accept}
            if signer is not None:
                headers.update(sign_request("GET", url, signer.key_id, signer.private_key_pem))
            try:
                async with self.session.get(url, headers=headers, allow_redirects=False) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if resp.status != 200:
                        raise FetchError(f"GET {url} answered {resp.status}", resp.status)
                    content_type = resp.headers.get("Content-Type", "")
                    if require_as2 and not is_as2_document(content_type):
                        raise FetchError(f"GET {url} is {content_type!r}, not ActivityStreams")
                    body = await self._read_limited(resp)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise FetchError(
                    f"GET {url} failed: {exc or type(exc).__name__}", transient=True
                ) from exc
            try:
                check_depth(body)  # before the parser: it recurses once per level
                document = json.loads(body)
            except TooDeep as exc:
                raise FetchError(f"GET {url}: {exc}") from exc
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise FetchError(f"GET {url} did not return JSON") from exc
            if not isinstance(document, dict):
                raise FetchError(f"GET {url} did not return a JSON object")
            return url, document
        raise FetchError(f"GET {url}: too many redirects")

    async def get_page(self, url: str, max_bytes: int, html_only: bool = False) -> tuple[str, str]:
        """GET a web page (unsigned; redirects followed, each hop through the SSRF guard);
        return (final url, its text, of which at most max_bytes are read). With
        html_only, anything not served as HTML, or longer than max_bytes, is refused."""
        for _hop in range(MAX_REDIRECTS + 1):
            self.check_url(url)
            try:
                async with self.session.get(
                    url, headers={"Accept": "text/html"}, allow_redirects=False
                ) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if resp.status != 200:
                        raise FetchError(f"GET {url} answered {resp.status}", resp.status)
                    if html_only and resp.content_type not in HTML_TYPES:
                        raise FetchError(f"GET {url} is {resp.content_type!r}, not HTML")
                    body = await _read_up_to(resp, max_bytes + int(html_only))
                    if len(body) > max_bytes:
                        raise FetchError(f"{url} is larger than {max_bytes} bytes")
                    charset = resp.charset or "utf-8"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise FetchError(
                    f"GET {url} failed: {exc or type(exc).__name__}", transient=True
                ) from exc
            try:
                return url, body.decode(charset, "replace")
            except LookupError:  # a charset nobody knows
                return url, body.decode("utf-8", "replace")
        raise FetchError(f"GET {url}: too many redirects")

    async def post_activity(
        self, url: str, body: bytes, signer: Signer, timeout: float
    ) -> PostResult:
        """POST a signed activity. Network failures raise FetchError; HTTP answers return."""
        self.check_url(url)
        headers = {"Content-Type": ACTIVITY_JSON, "Accept": ACCEPT_ACTIVITY}
        # RSA signing takes a millisecond and releases the GIL: off the event loop.
        signed = await asyncio.to_thread(
            sign_request, "POST", url, signer.key_id, signer.private_key_pem, body
        )
        headers.update(signed)
        return await self.post_bytes(url, body, headers, timeout)

    async def post_bytes(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> PostResult:
        """POST a body as is (a signed activity, an encrypted Web Push message) through the
        SSRF guard. Network failures raise FetchError; HTTP answers return."""
        self.check_url(url)
        try:
            async with self.session.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                reason = (await resp.content.read(500)).decode("utf-8", "replace")
                return PostResult(
                    resp.status, parse_retry_after(resp.headers.get("Retry-After")), reason
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise FetchError(
                f"POST {url} failed: {exc or type(exc).__name__}", transient=True
            ) from exc

    async def _read_limited(self, resp: aiohttp.ClientResponse) -> bytes:
        limit = self.config.federation.max_document_bytes
        chunks, size = [], 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise FetchError(f"{resp.url} is larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
