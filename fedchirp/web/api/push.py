"""Web Push subscriptions: /api/v1/push/subscription, as Mastodon serves it.

Parameters come as a form (subscription[endpoint]=..., data[alerts][mention]=true)
or as JSON ({"subscription": {...}, "data": {"alerts": {...}}}); both are read here.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import push
from fedchirp.store.push import PushSubscription
from fedchirp.web.api.auth import bearer_token, require_user
from fedchirp.web.api.params import flag, read_params
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()
PATH = "/api/v1/push/subscription"


def _nested(params: dict[str, Any], *names: str) -> Any:
    """params["a"]["b"] from JSON, or params["a[b]"] from a form."""
    value: Any = params
    for name in names:
        value = value.get(name) if isinstance(value, dict) else None
    if value is None:
        value = params.get(names[0] + "".join(f"[{name}]" for name in names[1:]))
    return value


def _text(params: dict[str, Any], *names: str) -> str:
    value = _nested(params, *names)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(422, f"{names[0]}{''.join(f'[{n}]' for n in names[1:])} must be text")
    return value


def _alerts(params: dict[str, Any]) -> dict[str, Any]:
    """data[alerts] as a JSON object, or as the form's data[alerts][name] fields."""
    nested = _nested(params, "data", "alerts")
    alerts = dict(nested) if isinstance(nested, dict) else {}
    prefix = "data[alerts]["
    for key, value in params.items():
        if key.startswith(prefix) and key.endswith("]"):
            alerts[key[len(prefix) : -1]] = value
    return alerts


def _policy(params: dict[str, Any]) -> str | None:
    """data[policy] as Mastodon documents it; a bare policy as Mastodon.py sends it."""
    value = _nested(params, "data", "policy")
    value = params.get("policy") if value is None else value
    return None if value is None else str(value)


def _standard(params: dict[str, Any]) -> bool:
    value = _nested(params, "subscription", "standard")
    if value is None:
        return flag(params, "standard")
    return flag({"standard": value}, "standard")


async def _entity(request: web.Request, found: PushSubscription) -> dict[str, Any]:
    """Mastodon's WebPushSubscription entity."""
    return {
        "id": str(found.id),
        "endpoint": found.endpoint,
        "standard": bool(found.standard),
        "alerts": push.alerts_of(found),
        "policy": found.policy,
        "server_key": await push.vapid_public_key(ctx_of(request)),
    }


async def _caller(request: web.Request) -> tuple[int, str]:
    account = await require_user(request, "push")
    token = bearer_token(request)
    assert token is not None  # require_user answered 401 without one
    return account.id, token


@routes.post(PATH)
async def subscribe(request: web.Request) -> web.Response:
    account_id, token = await _caller(request)
    params = await read_params(request)
    keys = push.SubscriptionKeys(
        endpoint=_text(params, "subscription", "endpoint"),
        p256dh=_text(params, "subscription", "keys", "p256dh"),
        auth=_text(params, "subscription", "keys", "auth"),
    )
    found = await push.subscribe(
        ctx_of(request), account_id, token, keys, _alerts(params), _policy(params),
        _standard(params),
    )  # fmt: skip
    return web.json_response(await _entity(request, found))


@routes.get(PATH)
async def show(request: web.Request) -> web.Response:
    _, token = await _caller(request)
    return web.json_response(
        await _entity(request, await push.subscription(ctx_of(request), token))
    )


@routes.put(PATH)
async def update(request: web.Request) -> web.Response:
    _, token = await _caller(request)
    params = await read_params(request)
    found = await push.update(ctx_of(request), token, _alerts(params), _policy(params))
    return web.json_response(await _entity(request, found))


@routes.delete(PATH)
async def unsubscribe(request: web.Request) -> web.Response:
    _, token = await _caller(request)
    await push.unsubscribe(ctx_of(request), token)
    return web.json_response({})
