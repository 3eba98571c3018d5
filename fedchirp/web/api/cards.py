"""Link preview cards for apps: the PreviewCard of a status, and trending links
(GET /api/v1/trends/links, TrendsLink: a PreviewCard with its daily history)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from fedchirp.services.trending_links import trending_links
from fedchirp.store.cards import PreviewCard
from fedchirp.web.api.params import number
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


def card_entity(card: PreviewCard | None) -> dict[str, Any] | None:
    """Mastodon's PreviewCard. The image is the page's own (remote) URL; no blurhash is
    computed, since the image is not fetched."""
    if card is None:
        return None
    authors = (
        [{"name": card.author_name, "url": card.author_url, "account": None}]
        if card.author_name
        else []
    )
    return {
        "url": card.card_url,
        "title": card.title,
        "description": card.description,
        "type": card.type,
        "author_name": card.author_name,
        "author_url": card.author_url,
        "authors": authors,
        "provider_name": card.provider_name,
        "provider_url": card.provider_url,
        "html": "",
        "width": card.width,
        "height": card.height,
        "image": card.image_url or None,
        "image_description": card.image_description,
        "embed_url": card.embed_url,
        "blurhash": None,
        "language": card.language,
        "published_at": card.published_at,
    }


@routes.get("/api/v1/trends/links")
async def trends_links(request: web.Request) -> web.Response:
    """Public, as on Mastodon: no token needed."""
    ctx = ctx_of(request)
    limit = number(request.query, "limit", 10, 1, 20)
    offset = number(request.query, "offset", 0, 0, 10_000)
    found = await trending_links(ctx, limit, offset)
    body = []
    for link in found:
        entity = card_entity(link.card)
        assert entity is not None
        entity["history"] = [
            {
                "day": str(int(day.day.timestamp())),
                "accounts": str(day.accounts),
                "uses": str(day.uses),
            }
            for day in link.history
        ]
        body.append(entity)
    response = web.json_response(body)
    if len(found) == limit:
        query = urlencode({**request.query, "offset": offset + limit})
        response.headers["Link"] = f'<{ctx.urls.base}{request.path}?{query}>; rel="next"'
    return response
