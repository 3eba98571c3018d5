"""Signing up from an app (POST /api/v1/accounts), the server's rules, and what the
instance entities say about registrations."""

from __future__ import annotations

from aiohttp import web

from fedchirp.config import Config
from fedchirp.services import invites, oauth, registrations
from fedchirp.services.errors import Forbidden
from fedchirp.store.signup import Rule
from fedchirp.web.api.auth import bearer_token
from fedchirp.web.api.params import flag, read_params, text
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()
SCOPE = "write:accounts"


def rule_entity(rule: Rule) -> dict:
    return {"id": str(rule.id), "text": rule.text, "hint": rule.hint}


async def rule_entities(request: web.Request) -> list[dict]:
    return [rule_entity(rule) for rule in await invites.list_rules(ctx_of(request).store)]


def _message(config: Config) -> str | None:
    return config.registrations.message or None


def registrations_v1(config: Config) -> dict:
    """The registration fields of the v1 Instance entity."""
    return {
        "registrations": registrations.registrations_open(config),
        "approval_required": registrations.approval_required(config),
        # Mastodon's meaning: may every user invite people? Here only admins can.
        "invites_enabled": False,
    }


def registrations_v2(config: Config) -> dict:
    """The `registrations` object of the v2 Instance entity. url stays null: it names an
    outside sign-up service, and ours is here (/auth/sign_up)."""
    approval = registrations.approval_required(config)
    return {
        "enabled": registrations.registrations_open(config),
        "approval_required": approval,
        "reason_required": approval,
        "message": _message(config),
        "url": None,
        "min_age": None,
    }


@routes.get("/api/v1/instance/rules")
async def rules(request: web.Request) -> web.Response:
    return web.json_response(await rule_entities(request))


async def _app_token(request: web.Request) -> str:
    """The caller's token, which must allow write:accounts (an app's, from the
    client_credentials grant, as Mastodon asks)."""
    token = bearer_token(request)
    found = await oauth.token_owner(ctx_of(request), token) if token else None
    if token is None or found is None:
        raise ApiError(401, "The access token is invalid")
    if not oauth.scope_allows(found[1], SCOPE):
        raise ApiError(403, "This action is outside the authorized scopes")
    return token


def _agreed(params: dict) -> bool:
    """Anything but a true value is no agreement (a 422 under details.agreement)."""
    try:
        return flag(params, "agreement")
    except ApiError:
        return False


@routes.post("/api/v1/accounts")
async def create_account(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    token = await _app_token(request)
    params = await read_params(request)
    form = registrations.SignUp(
        username=text(params, "username").strip(),
        email=text(params, "email").strip(),
        password=text(params, "password"),
        agreement=_agreed(params),
        reason=text(params, "reason"),
        locale=text(params, "locale"),
        invite_code=text(params, "invite_code").strip(),
    )
    try:
        account, _ = await registrations.sign_up(ctx.store, ctx.config, form)
    except registrations.SignUpInvalid as exc:
        return web.json_response(
            {
                "error": str(exc),
                "details": {
                    name: [{"error": code, "description": words} for code, words in found]
                    for name, found in exc.details.items()
                },
            },
            status=422,
        )
    except Forbidden as exc:
        raise ApiError(403, str(exc)) from exc
    issued = await oauth.token_for_new_account(ctx, token, account)
    return web.json_response(
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "scope": issued.scopes,
            "created_at": issued.created_at,
        }
    )
