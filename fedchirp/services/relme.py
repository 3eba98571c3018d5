"""rel="me" verification of profile fields, as jobs (Mastodon's VerifyAccountLinksWorker).

A field whose value is a link to a web page is verified when that page links back to
the profile with rel="me" (an <a> or <link> whose rel has "me" and whose href is the
account's profile or actor URL). The page is fetched by a job, through the SSRF-guarded
client, so saving a profile never waits on another site; a page that cannot be reached
just now is tried again with backoff. The verification is kept only while the field's
value is still the link that was checked.
"""

from __future__ import annotations

import logging
from html.parser import HTMLParser
from typing import Any

from fedchirp import html
from fedchirp.clock import now_iso
from fedchirp.federation.http import FetchError
from fedchirp.federation.profile import ProfileField, fields_from_json, fields_to_json
from fedchirp.federation.vocab import is_http_uri
from fedchirp.services.context import Context
from fedchirp.services.jobs import Retry
from fedchirp.store.models import Account

log = logging.getLogger(__name__)

RELME_QUEUE = "profile.relme"
RELME_RETRY = Retry(base_seconds=60.0, max_seconds=3600.0, attempts=4)
MAX_PAGE_BYTES = 1024 * 1024  # a rel="me" link belongs in the head or near it


def register_jobs(ctx: Context) -> None:
    ctx.jobs.register(
        RELME_QUEUE, lambda payload: verify(ctx, payload), RELME_RETRY, keep_dead=False
    )


def link_of(field: ProfileField) -> str | None:
    """The URL a field's value is, when it is just one link that may be checked."""
    text = html.to_text(field.value).strip()
    if not is_http_uri(text) or any(c.isspace() for c in text):
        return None
    return text


async def queue_checks(ctx: Context, account: Account, fields: list[ProfileField]) -> None:
    """Queue a check of every unverified link field (in the caller's unit of work)."""
    allowed = ("https://", "http://") if ctx.config.federation.allow_http else ("https://",)
    for field in fields:
        url = link_of(field)
        if url is not None and field.verified_at is None and url.startswith(allowed):
            await ctx.jobs.enqueue(
                RELME_QUEUE, f"{account.id} {url}", {"account_id": account.id, "url": url}
            )


class _RelMeLinks(HTMLParser):
    """The hrefs of <a> and <link> elements whose rel includes "me"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("a", "link"):
            return
        values = dict(attrs)
        if "me" in (values.get("rel") or "").lower().split() and values.get("href"):
            self.hrefs.append(values["href"] or "")


def links_back(page: str, account: Account) -> bool:
    parser = _RelMeLinks()
    parser.feed(page)
    targets = {account.uri.rstrip("/"), (account.url or account.uri).rstrip("/")}
    return any(href.strip().rstrip("/") in targets for href in parser.hrefs)


async def verify(ctx: Context, payload: dict[str, Any]) -> None:
    """The job: fetch the page and mark the field verified if it links back."""
    url = payload["url"]
    account = await ctx.store.get_account(payload["account_id"])
    if account is None:
        return
    try:
        _, page = await ctx.http.get_page(url, MAX_PAGE_BYTES)
    except FetchError as exc:
        if exc.transient:
            raise  # tried again with backoff
        log.info("rel=me check of %s failed: %s", url, exc)
        return
    if not links_back(page, account):
        log.info("%s does not link back to %s with rel=me", url, account.uri)
        return
    await _mark_verified(ctx, account.id, url)


async def _mark_verified(ctx: Context, account_id: int, url: str) -> None:
    async with ctx.store.atomic():
        account = await ctx.store.lock_account(account_id)  # as it is now, held till done
        if account is None:
            return
        fields = fields_from_json(account.fields)
        changed = [
            ProfileField(f.name, f.value, now_iso())
            if link_of(f) == url and not f.verified_at
            else f
            for f in fields
        ]
        if changed != fields:
            await ctx.store.update_profile(account_id, {"fields": fields_to_json(changed)}, {})
