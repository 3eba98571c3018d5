"""OAuth 2: app registration, the authorize page, tokens, revocation, server metadata."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from fedchirp.services import oauth, push
from fedchirp.services.accounts import authenticate
from fedchirp.services.errors import Invalid
from fedchirp.store.models import OAuthApp
from fedchirp.web.addresses import client_address
from fedchirp.web.api.auth import bearer_token
from fedchirp.web.api.params import read_params, text
from fedchirp.web.errors import ApiError
from fedchirp.web.pages.common import render
from fedchirp.web.ratelimit import SignInRefused, guarded_sign_in, rate_limits
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()
AUTHORIZE_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


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
    entity = await _app_entity(request, app)
    return web.json_response(
        {**entity, "client_id": app.client_id, "client_secret": app.client_secret}
    )


@routes.get("/api/v1/apps/verify_credentials")
async def verify_app(request: web.Request) -> web.Response:
    """Whether an app's token still works, and for which app (its secret is not shown)."""
    token = bearer_token(request)
    app = await oauth.token_app(ctx_of(request), token) if token else None
    if app is None:
        raise ApiError(401, "The access token is invalid")
    return web.json_response(await _app_entity(request, app))


async def _app_entity(request: web.Request, app: OAuthApp) -> dict[str, Any]:
    """Mastodon's Application."""
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": app.redirect_uris,
        "redirect_uris": app.redirect_uris.split(),
        "vapid_key": await push.vapid_public_key(ctx_of(request)),
    }


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _client_credentials(request: web.Request, params: dict[str, Any]) -> tuple[str, str]:
    """client_id/secret from the body, or from HTTP Basic auth (client_secret_basic)."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return text(params, "client_id"), text(params, "client_secret")


@routes.post("/oauth/token")
async def token(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    grant = text(params, "grant_type")
    # The grants that take a secret a guesser could try are sign-ins: their limits apply.
    limits, address = rate_limits(request), client_address(request)
    try:
        app = await oauth.client_app(ctx, *_client_credentials(request, params))
        scope = text(params, "scope") or None
        if grant == "authorization_code":
            issued = await limits.login(
                address,
                None,
                lambda: oauth.code_grant(
                    ctx,
                    app,
                    text(params, "code"),
                    text(params, "redirect_uri"),
                    text(params, "code_verifier") or None,
                ),
            )
        elif grant == "password":
            username = text(params, "username")
            issued = await limits.login(
                address,
                username,
                lambda: oauth.password_grant(ctx, app, username, text(params, "password"), scope),
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


# -- the authorize page --------------------------------------------------------


@routes.get("/oauth/authorize")
async def authorize_form(request: web.Request) -> web.Response:
    params = {k: request.query.get(k, "") for k in AUTHORIZE_FIELDS}
    checked = await _check(request, params)
    if isinstance(checked, web.Response):
        return checked
    return await _form(request, checked, params)


@routes.post("/oauth/authorize")
async def authorize(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    form = await request.post()
    params = {k: str(form.get(k, "")) for k in AUTHORIZE_FIELDS}
    checked = await _check(request, params)
    if isinstance(checked, web.Response):
        return checked
    if form.get("decision") == "deny":
        return _redirect_back(checked, {"error": "access_denied"})
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    try:
        account = await guarded_sign_in(
            request, username, lambda: authenticate(ctx.store, username, password)
        )
    except SignInRefused as refused:
        response = await _form(request, checked, params, refused.message, refused.status)
        response.headers.update(refused.headers)
        return response
    if account is None:
        return await _form(request, checked, params, "The username or password is wrong.", 401)
    code = await oauth.issue_code(ctx, checked, account)
    if checked.redirect_uri == oauth.OOB_REDIRECT:
        return await render(
            request,
            "message.html",
            heading="Authorization code",
            message=f"Copy this code into {checked.app.name}:",
            code=code,
        )
    return _redirect_back(checked, {"code": code})


async def _check(
    request: web.Request, params: dict[str, str]
) -> oauth.AuthorizationRequest | web.Response:
    try:
        return await oauth.check_authorization_request(
            ctx_of(request),
            params["client_id"],
            params["redirect_uri"],
            params["response_type"] or "code",
            params["scope"] or None,
            params["state"] or None,
            params["code_challenge"] or None,
            params["code_challenge_method"] or None,
        )
    except (oauth.InvalidClient, oauth.InvalidGrant, Invalid) as exc:
        # Never redirect to an unchecked redirect_uri: show the error here.
        return await render(
            request,
            "message.html",
            status=400,
            heading="Authorization failed",
            message=str(exc),
            code="",
        )


def _redirect_back(checked: oauth.AuthorizationRequest, values: dict[str, str]) -> web.Response:
    if checked.state:
        values["state"] = checked.state
    separator = "&" if "?" in checked.redirect_uri else "?"
    raise web.HTTPFound(f"{checked.redirect_uri}{separator}{urlencode(values)}")


async def _form(
    request: web.Request,
    checked: oauth.AuthorizationRequest,
    params: dict[str, str],
    error: str = "",
    status: int = 200,
) -> web.Response:
    return await render(
        request,
        "authorize.html",
        status=status,
        app_name=checked.app.name,
        error=error,
        scopes=checked.scopes.split(),
        hidden={k: v for k, v in params.items() if v},
    )


@routes.get("/.well-known/oauth-authorization-server")
async def metadata(request: web.Request) -> web.Response:
    base = ctx_of(request).urls.base
    return web.json_response(
        {
            "issuer": f"{base}/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "app_registration_endpoint": f"{base}/api/v1/apps",
            "scopes_supported": [*oauth.TOP_SCOPES, *sorted(oauth.GRANULAR_SCOPES)],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": list(oauth.GRANT_TYPES),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "service_documentation": "https://docs.joinmastodon.org/",
        }
    )


@routes.post("/oauth/revoke")
async def revoke(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    try:
        app = await oauth.client_app(ctx, *_client_credentials(request, params))
    except oauth.InvalidClient as exc:
        return _oauth_error("unauthorized_client", str(exc), 403)
    await oauth.revoke(ctx, app, text(params, "token"))
    return web.json_response({})
