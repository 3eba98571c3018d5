"""GET /media/{name} when uploads live in object storage: read from the bucket and served.

Only registered for media.backend = "s3" (the local backend is served as static
files). Names not of the shape we generate are a 404 without asking the bucket.
"""

from __future__ import annotations

from aiohttp import web

from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

# Names are never reused, so browsers and proxies may keep a copy for good.
CACHE_CONTROL = "public, max-age=31536000, immutable"


@routes.get("/media/{name}")
async def media_file(request: web.Request) -> web.Response:
    stored = await ctx_of(request).media_storage.get(request.match_info["name"])
    if stored is None:
        raise web.HTTPNotFound(reason="media not found")
    headers = {
        "Content-Type": stored.content_type,
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",  # never guessed into HTML
    }
    return web.Response(body=stored.data, headers=headers)
