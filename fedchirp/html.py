"""Post HTML: render local plain text, sanitise remote HTML, and strip HTML to text."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3

# What remote posts may keep, close to Mastodon's sanitiser: text structure and
# links, no scripts, styles, images or forms.
_ALLOWED_TAGS = {
    "p",
    "br",
    "span",
    "a",
    "del",
    "pre",
    "code",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "ul",
    "ol",
    "li",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}
# "class" is allowed through _ALLOWED_CLASSES only (nh3 refuses both at once).
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "translate"},
    "span": {"translate"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
_ALLOWED_CLASSES = {
    "a": {"mention", "hashtag", "u-url", "h-card", "unhandled-link"},
    "span": {"h-card", "invisible", "ellipsis", "mention"},
}


def sanitize(remote_html: str) -> str:
    """Remote HTML made safe to render: allow-listed tags, http(s)/mailto links only."""
    return nh3.clean(
        remote_html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        allowed_classes=_ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


# The most HTML a remote post keeps, counted after sanitising: 100,000 characters keeps
# any real post or article whole, while a 900,000-character note no longer fills every
# timeline page, thread and API answer it is in. Past it the post is cut, not refused: it
# still exists (replies and boosts point at it, and a follower may want its start), and a
# cut sanitised again is well-formed HTML.
MAX_REMOTE_HTML = 100_000
# Room left under the cap for the tags that closing the cut adds back.
_CUT_MARGIN = 1_000
TRUNCATED = "<p>\u2026</p>"


def sanitize_capped(remote_html: str) -> str:
    """sanitize(), then cut to at most MAX_REMOTE_HTML characters (ending with an
    ellipsis paragraph when something was cut)."""
    clean = sanitize(remote_html)
    if len(clean) <= MAX_REMOTE_HTML:
        return clean
    # Cutting may split a tag or entity; sanitising the cut drops a half tag and
    # closes the open ones.
    cut = sanitize(clean[: MAX_REMOTE_HTML - _CUT_MARGIN])
    limit = MAX_REMOTE_HTML - len(TRUNCATED)
    if len(cut) > limit:  # thousands of nested tags closed: keep the words only
        cut = "<p>" + html.escape(to_text(cut)[: limit // 2]) + "</p>"
    return cut + TRUNCATED


# @user or @user@host[:port]; # tags; bare URLs.
MENTION_RE = re.compile(
    r"(?<![\w/@])@(?P<user>[A-Za-z0-9_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z0-9_])"
    r"(?:@(?P<host>[A-Za-z0-9.\-]+[A-Za-z0-9](?::\d{1,5})?))?"
)
HASHTAG_RE = re.compile(r"(?<![\w/#&])#(?P<tag>\w*[^\W\d_]\w*)")  # at least one letter


def tag_key(text: str) -> str:
    """A hashtag as it is stored and looked up: lowercase, without '#' or spaces."""
    return text.strip().lstrip("#").lower()

URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_TOKEN_RE = re.compile(f"(?P<url>{URL_RE.pattern})|{MENTION_RE.pattern}|{HASHTAG_RE.pattern}")


def find_mentions(text: str) -> list[tuple[str, str | None]]:
    """(username, host or None) for each @mention in plain text, first occurrence order."""
    seen: dict[tuple[str, str | None], None] = {}
    for match in _TOKEN_RE.finditer(text):
        if match.group("user"):
            host = match.group("host")
            seen.setdefault((match.group("user"), host.lower() if host else None), None)
    return list(seen)


def find_hashtags(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for match in _TOKEN_RE.finditer(text):
        if match.group("tag"):
            seen.setdefault(match.group("tag").lower(), None)
    return list(seen)


def render_plain_text(
    text: str,
    mention_link: Callable[[str, str | None], tuple[str, str] | None],
    tag_link: Callable[[str], str],
) -> str:
    """Plain text to HTML paragraphs, linking URLs, known mentions and hashtags.

    mention_link(user, host) returns (href, display) for a mention we resolved,
    or None to leave the text as it was.
    """
    paragraphs = [p for p in re.split(r"\n{2,}", text.strip()) if p.strip()]

    def link(match: re.Match[str]) -> str:
        if match.group("url"):
            url = html.escape(match.group("url"))
            return f'<a href="{url}" rel="nofollow noopener noreferrer" target="_blank">{url}</a>'
        if match.group("user"):
            found = mention_link(match.group("user"), match.group("host"))
            if found is None:
                return html.escape(match.group(0))
            href, display = found
            return (
                f'<span class="h-card"><a href="{html.escape(href)}" class="u-url mention">'
                f"@<span>{html.escape(display)}</span></a></span>"
            )
        tag = match.group("tag")
        return (
            f'<a href="{html.escape(tag_link(tag.lower()))}" class="mention hashtag" rel="tag">'
            f"#<span>{html.escape(tag)}</span></a>"
        )

    def render(paragraph: str) -> str:
        pieces, last = [], 0
        for match in _TOKEN_RE.finditer(paragraph):
            pieces.append(html.escape(paragraph[last : match.start()]))
            pieces.append(link(match))
            last = match.end()
        pieces.append(html.escape(paragraph[last:]))
        return "".join(pieces).replace("\n", "<br>")

    return "".join(f"<p>{render(p)}</p>" for p in paragraphs)


def to_text(fragment: str) -> str:
    """Readable text from post HTML (for previews, logs and length checks)."""
    text = re.sub(r"<br\s*/?>", "\n", fragment, flags=re.I)
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", text, flags=re.I)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()
