"""POST /api/v1/apps, POST /oauth/token and /oauth/revoke, and the OAuth metadata."""

from __future__ import annotations

from aiohttp import web

from fedchirp.services import oauth
from fedchirp.web.api.params import read_params, text
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


@routes.post("/api/v1/apps")
async def create_app(request: web.Request) -> web.Response:
    params = await read_params(request)
    redirect = params.get("redirect_uris", "")
    if isinstance(redirect, list):
        redirect = "\n".join(redirect)
    app = await oauth.register_app(
        ctx_of(request),
        text(params, "client_name"),
        str(redirect),
        text(params, "scopes", "read"),
        text(params, "website") or None,
    )
    return web.json_response(
        {
            "id": str(app.id),
            "name": app.name,
            "website": app.website,
            "scopes": app.scopes.split(),
            "redirect_uri": app.redirect_uris,
            "redirect_uris": app.redirect_uris.split(),
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "vapid_key": "",
        }
    )


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


@routes.post("/oauth/token")
async def token(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    grant = text(params, "grant_type")
    try:
        app = await oauth.client_app(ctx, text(params, "client_id"), text(params, "client_secret"))
        scope = text(params, "scope") or None
        if grant == "password":
            issued = await oauth.password_grant(
                ctx, app, text(params, "username"), text(params, "password"), scope
            )
        elif grant == "client_credentials":
            issued = await oauth.issue_token(ctx, app, None, oauth.granted_scopes(app, scope))
        else:
            return _oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported")
    except oauth.InvalidClient as exc:
        return _oauth_error("invalid_client", str(exc), 401)
    except oauth.InvalidGrant as exc:
        return _oauth_error("invalid_grant", str(exc))
    return web.json_response(
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "scope": issued.scopes,
            "created_at": issued.created_at,
        }
    )


@routes.post("/oauth/revoke")
async def revoke(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    try:
        await oauth.client_app(ctx, text(params, "client_id"), text(params, "client_secret"))
    except oauth.InvalidClient as exc:
        return _oauth_error("unauthorized_client", str(exc), 403)
    await oauth.revoke(ctx, text(params, "token"))
    return web.json_response({})
