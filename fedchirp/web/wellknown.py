"""Discovery: WebFinger (RFC 7033), NodeInfo 2.1 and host-meta."""

from __future__ import annotations

import json
from xml.sax.saxutils import quoteattr

from aiohttp import web

from fedchirp import SOFTWARE_NAME, __version__
from fedchirp.services import instance
from fedchirp.services.accounts import local_account_for_resource
from fedchirp.services.registrations import registrations_open
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

NODEINFO_VERSIONS = ("2.1", "2.0")  # 2.0 for readers that know no other (Elk)
CORS = {"Access-Control-Allow-Origin": "*"}


@routes.get("/.well-known/webfinger")
async def webfinger(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    resource = request.query.get("resource", "").strip()
    if not resource:
        raise ApiError(400, "the resource parameter is required")
    account = await local_account_for_resource(ctx, resource)
    if account is None:
        if _names_instance_actor(request, resource):
            return _jrd(
                f"acct:{ctx.config.server.domain}@{ctx.config.server.domain}",
                ctx.urls.instance_actor,
                f"{ctx.urls.base}/about",
            )
        raise ApiError(404, f"no account here for {resource}")
    return _jrd(f"acct:{account.username}@{ctx.config.server.domain}", account.uri, account.url)


def _names_instance_actor(request: web.Request, resource: str) -> bool:
    ctx = ctx_of(request)
    domain = ctx.config.server.domain.lower()
    return resource.lower() in (f"acct:{domain}@{domain}", ctx.urls.instance_actor.lower())


def _jrd(subject: str, actor_uri: str, profile_url: str) -> web.Response:
    document = {
        "subject": subject,
        "aliases": [profile_url, actor_uri],
        "links": [
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": profile_url,
            },
            {"rel": "self", "type": "application/activity+json", "href": actor_uri},
        ],
    }
    return web.json_response(document, content_type="application/jrd+json", headers=CORS)


@routes.get("/.well-known/nodeinfo")
async def nodeinfo_links(request: web.Request) -> web.Response:
    base = ctx_of(request).urls.base
    links = [
        {"rel": _nodeinfo_schema(version), "href": f"{base}/nodeinfo/{version}"}
        for version in NODEINFO_VERSIONS
    ]
    return web.json_response({"links": links}, headers=CORS)


def _nodeinfo_schema(version: str) -> str:
    return f"http://nodeinfo.diaspora.software/ns/schema/{version}"


@routes.get(r"/nodeinfo/{version:2\.[01]}")
async def nodeinfo(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    version = request.match_info["version"]
    counts = await instance.usage(ctx)
    software = {"name": SOFTWARE_NAME, "version": __version__}
    if version == "2.1":  # 2.0's schema allows no other software fields
        software["homepage"] = f"{ctx.urls.base}/"
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": registrations_open(ctx.config),
        "usage": {
            "users": {
                "total": counts.users,
                "activeMonth": counts.active_month,
                "activeHalfyear": counts.active_halfyear,
            },
            "localPosts": counts.local_posts,
        },
        "metadata": {
            "nodeName": ctx.config.server.name,
            "nodeDescription": ctx.config.server.description,
        },
    }
    return web.Response(
        text=json.dumps(document),
        headers={
            **CORS,
            "Content-Type": f'application/json; profile="{_nodeinfo_schema(version)}#"',
        },
    )


@routes.get("/.well-known/host-meta")
async def host_meta(request: web.Request) -> web.Response:
    template = f"{ctx_of(request).urls.base}/.well-known/webfinger?resource={{uri}}"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )
    return web.Response(text=body, content_type="application/xrd+xml", headers=CORS)
