"""Link previews on the wire: which link of a post gets a card, and what a web page
says about itself (OpenGraph, Twitter cards, <title> and meta description).

As Mastodon's FetchLinkCardService and LinkDetailsExtractor: the first http(s) link
of a post that is not a mention or hashtag link and not on this server; a page's
og:title else its <title>, og:description else its meta description, og:image,
og:site_name, a canonical URL only when on the page's own host. A page with a
twitter:player is a "video" card. Only the stdlib parser reads remote HTML; nothing
here fetches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

MAX_URL_LENGTH = 2048  # as for ids (federation/vocab.py)
MAX_TEXT = {"title": 500, "description": 1000, "default": 255}
# Classes that mark mention and hashtag links (Mastodon's and microformats'); our
# sanitiser keeps these classes on remote posts but replaces their rel.
_SKIPPED_CLASSES = {"mention", "hashtag", "u-url", "h-card"}


def http_url(value: str | None, base: str) -> str:
    """value resolved against base, if it is an http(s) URL with a host; else ""."""
    if not value or value == "null":
        return ""
    try:
        url = urljoin(base, value.strip())
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL_LENGTH:
        return ""
    return url


# -- the link of a post ------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        rels = set((values.get("rel") or "").lower().split())
        if values.get("href") and not classes & _SKIPPED_CLASSES and "tag" not in rels:
            self.hrefs.append(values["href"] or "")


def card_link(content: str, own_host: str, skip: set[str]) -> str | None:
    """The link of a post's HTML that gets a card: the first http(s) link that is not
    a mention or hashtag (by class, rel, or being in skip) and not on own_host."""
    parser = _Links()
    parser.feed(content)
    parser.close()
    for href in parser.hrefs:
        url = http_url(href, "")
        if url and url not in skip and urlsplit(url).netloc.lower() != own_host.lower():
            return url
    return None


# -- what a page says about itself -------------------------------------------------


@dataclass(frozen=True)
class LinkDetails:
    """A card's fields as a page gives them (preview_cards columns but id and times)."""

    card_url: str
    type: str
    title: str
    description: str
    author_name: str
    author_url: str
    provider_name: str
    provider_url: str
    image_url: str
    image_description: str
    width: int
    height: int
    embed_url: str
    language: str | None
    published_at: str | None


class _Head(HTMLParser):
    """<meta> properties/names, <link rel> hrefs, the first <title>, <html lang>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}  # by property, else name; the first one wins
        self.named: dict[str, str] = {}  # by name only (meta description)
        self.links: dict[str, str] = {}
        self.title: str | None = None
        self.lang: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = values.get("lang") or None
        elif tag == "meta" and "content" in values:
            for key in (values.get("property"), values.get("name")):
                if key:
                    self.meta.setdefault(key.lower(), values["content"])
            if values.get("name"):
                self.named.setdefault(values["name"].lower(), values["content"])
        elif tag == "link" and values.get("href"):
            self.links.setdefault(values.get("rel", "").lower(), values["href"])
        elif tag == "title" and self.title is None:
            self._in_title, self.title = True, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data


def _clean(value: str | None, field: str) -> str:
    text = " ".join((value or "").split())
    return text[: MAX_TEXT.get(field, MAX_TEXT["default"])]


def _number(value: str | None) -> int:
    try:
        return max(0, min(int((value or "0").strip()), 100_000))
    except ValueError:
        return 0


def _language(value: str | None) -> str | None:
    """The code of a language tag ("en_US", "en-GB", "de"), as Mastodon keeps it."""
    code = (value or "").replace("_", "-").split("-")[0].strip().lower()
    return code if 2 <= len(code) <= 3 and code.isalpha() else None


def _published(value: str | None) -> str | None:
    try:
        return datetime.fromisoformat((value or "").strip()).isoformat() if value else None
    except ValueError:
        return None


def link_details(page: str, page_url: str) -> LinkDetails | None:
    """What the page at page_url says about itself; None when it has no title."""
    head = _Head()
    try:
        head.feed(page)
        head.close()
    except (AssertionError, ValueError):  # the stdlib parser gives up on some garbage
        return None
    og = head.meta.get
    title = _clean(og("og:title") or og("twitter:title") or head.title, "title")
    if not title:
        return None
    canonical = http_url(head.links.get("canonical") or og("og:url"), page_url)
    if urlsplit(canonical).hostname != urlsplit(page_url).hostname:
        canonical = page_url  # another host may not name itself for this link
    player = http_url(og("twitter:player"), page_url)
    site = og("og:site")
    return LinkDetails(
        card_url=canonical,
        type="video" if player else "link",
        title=title,
        description=_clean(
            og("og:description") or og("twitter:description") or head.named.get("description"),
            "description",
        ),
        author_name=_clean(og("og:author") or og("article:author") or og("author"), "author"),
        author_url="",
        provider_name=_clean(og("og:site_name"), "provider"),
        provider_url=http_url(site if site and "://" in site else f"http://{site}", page_url)
        if site
        else "",
        image_url=http_url(og("og:image") or og("og:image:url") or og("twitter:image"), page_url),
        image_description=_clean(og("og:image:alt") or og("twitter:image:alt"), "alt"),
        width=_number(og("twitter:player:width") if player else og("og:image:width")),
        height=_number(og("twitter:player:height") if player else og("og:image:height")),
        embed_url=http_url(og("twitter:player:stream"), page_url),
        language=_language(og("og:locale") or head.lang),
        published_at=_published(og("article:published_time")),
    )
