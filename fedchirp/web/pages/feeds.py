"""RSS 2.0 and Atom feeds of an account's public posts (never anything else)."""

from __future__ import annotations

from email.utils import format_datetime
from xml.etree import ElementTree as ET

from aiohttp import web

from fedchirp import html
from fedchirp.clock import parse_iso, utcnow
from fedchirp.services import timelines
from fedchirp.services.accounts import local_account
from fedchirp.store.models import Account, Page, Status
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()
ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 20


async def _public_posts(request: web.Request) -> tuple[Account, list[Status]]:
    ctx = ctx_of(request)
    account = await local_account(ctx, request.match_info["username"])
    statuses = await timelines.account_statuses(ctx, None, account, Page(limit=FEED_SIZE))
    # Public only: unlisted posts stay out of feeds as they stay out of timelines.
    return account, [s for s in statuses if s.visibility == "public" and s.reblog_of_id is None]


def _title(status: Status) -> str:
    text = status.spoiler_text or html.to_text(status.content)
    return text if len(text) <= 80 else text[:79] + "…"


@routes.get(r"/@{username:[A-Za-z0-9_]+}.rss")
async def rss(request: web.Request) -> web.Response:
    account, posts = await _public_posts(request)
    channel_root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(channel_root, "channel")
    ET.SubElement(channel, "title").text = account.display_name or account.username
    ET.SubElement(channel, "link").text = account.url
    ET.SubElement(channel, "description").text = f"Public posts of @{account.username}"
    for status in posts:
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = _title(status)
        ET.SubElement(item, "link").text = status.url
        ET.SubElement(item, "guid", isPermaLink="true").text = status.url
        published = parse_iso(status.created_at) or utcnow()
        ET.SubElement(item, "pubDate").text = format_datetime(published, usegmt=True)
        ET.SubElement(item, "description").text = status.content
    body = ET.tostring(channel_root, encoding="unicode", xml_declaration=True)
    return web.Response(text=body, content_type="application/rss+xml")


@routes.get(r"/@{username:[A-Za-z0-9_]+}.atom")
async def atom(request: web.Request) -> web.Response:
    account, posts = await _public_posts(request)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = account.uri
    ET.SubElement(feed, f"{{{ATOM}}}title").text = account.display_name or account.username
    ET.SubElement(feed, f"{{{ATOM}}}link", href=account.url, rel="alternate")
    updated = posts[0].edited_at or posts[0].created_at if posts else account.created_at
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = account.display_name or account.username
    ET.SubElement(author, f"{{{ATOM}}}uri").text = account.url
    for status in posts:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = status.uri
        ET.SubElement(entry, f"{{{ATOM}}}title").text = _title(status)
        ET.SubElement(entry, f"{{{ATOM}}}link", href=status.url, rel="alternate")
        ET.SubElement(entry, f"{{{ATOM}}}published").text = status.created_at
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = status.edited_at or status.created_at
        ET.SubElement(entry, f"{{{ATOM}}}content", type="html").text = status.content
    body = ET.tostring(feed, encoding="unicode", xml_declaration=True)
    return web.Response(text=body, content_type="application/atom+xml")
