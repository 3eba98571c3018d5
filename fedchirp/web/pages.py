"""Plain server-rendered pages: landing page, profiles and post permalinks.

Post HTML is stored sanitised (ours rendered from escaped text, remote passed
through nh3), so it is inserted as is; everything else is escaped here.
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from fedchirp.services import posting, timelines
from fedchirp.services.accounts import local_account
from fedchirp.services.errors import NotFound
from fedchirp.store.models import Account, Page, Status
from fedchirp.web.activitypub import activity_response, require_visible, wants_activity_json
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}article{border-bottom:1px solid #ddd;padding:.75rem 0}"
    ".meta{color:#666;font-size:.85rem}a{color:#2b6cb0}"
)


def render_page(title: str, body: str, status: int = 200) -> web.Response:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
    return web.Response(text=document, content_type="text/html", status=status)


def _article(status: Status, author: Account) -> str:
    handle = escape(author.acct())
    return (
        f'<article><div class=meta><a href="{escape(author.url)}">@{handle}</a> · '
        f'<a href="{escape(status.url)}"><time>{escape(status.created_at)}</time></a></div>'
        f"{status.content}</article>"
    )


async def _articles(request: web.Request, statuses: list[Status]) -> str:
    ctx = ctx_of(request)
    authors = await ctx.store.get_accounts(s.account_id for s in statuses)
    return "".join(_article(s, authors[s.account_id]) for s in statuses if s.reblog_of_id is None)


@routes.get("/")
async def landing(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    server = ctx.config.server
    statuses = await timelines.public(ctx, local_only=True, page=Page(limit=20))
    body = (
        f"<h1>{escape(server.name)}</h1><p>{escape(server.description)}</p>"
        f"<h2>Recent posts</h2>{await _articles(request, statuses) or '<p>Nothing yet.</p>'}"
    )
    return render_page(server.name, body)


@routes.get("/tags/{name}")
async def tag_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    name = request.match_info["name"]
    statuses = await timelines.tag(ctx, name, local_only=False, page=Page(limit=20))
    body = f"<h1>#{escape(name)}</h1>{await _articles(request, statuses) or '<p>No posts.</p>'}"
    return render_page(f"#{name}", body)


@routes.get("/@{username}")
async def profile(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = await local_account(ctx, request.match_info["username"])
    statuses = await timelines.account_statuses(ctx, None, account, Page(limit=20))
    body = (
        f"<h1>{escape(account.display_name or account.username)}</h1>"
        f"<p class=meta>@{escape(account.username)}@{escape(ctx.config.server.domain)}</p>"
        f"<div>{account.note}</div>{await _articles(request, statuses)}"
    )
    return render_page(f"@{account.username}", body)


@routes.get("/@{username}/{status_id:\\d+}")
async def status_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = await local_account(ctx, request.match_info["username"])
    status = await ctx.store.get_status(int(request.match_info["status_id"]))
    if status is None or status.account_id != account.id or status.reblog_of_id is not None:
        raise NotFound("post not found")
    await require_visible(request, ctx, status)
    if wants_activity_json(request):
        return activity_response(await posting.note_document(ctx, status, account))
    return render_page(f"@{account.username}", _article(status, account))
