"""/api/v1/polls: read a poll, vote in it; and the poll parameters of a new post."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedchirp.services import polls, timelines
from fedchirp.services.context import Context
from fedchirp.store.models import Account
from fedchirp.store.polls import Poll
from fedchirp.web.api.auth import optional_user, require_user
from fedchirp.web.api.params import flag, path_id, read_params
from fedchirp.web.errors import ApiError
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()


def poll_params(params: dict[str, Any]) -> dict[str, Any] | None:
    """The poll of a post request: poll[options][]=... (forms) or "poll": {...} (JSON);
    None if it has none. Shapes are checked by the service."""
    nested = params.get("poll")
    if isinstance(nested, dict):
        found = {
            "options": nested.get("options"),
            "expires_in": nested.get("expires_in"),
            "multiple": flag(nested, "multiple"),
            "hide_totals": flag(nested, "hide_totals"),
        }
    else:
        found = {
            "options": params.get("poll[options][]", params.get("poll[options]")),
            "expires_in": params.get("poll[expires_in]"),
            "multiple": flag(params, "poll[multiple]"),
            "hide_totals": flag(params, "poll[hide_totals]"),
        }
    if found["options"] is None:
        if nested is not None and not isinstance(nested, dict):
            raise ApiError(422, "poll must be an object with options and expires_in")
        return None
    return found


def poll_entity(poll: Poll, own: list[int] | None, signed_in: bool) -> dict[str, Any]:
    """Mastodon's Poll entity; the id is its post's (one poll per post)."""
    totals = polls.shows_totals(poll)
    entity: dict[str, Any] = {
        "id": str(poll.status_id),
        "expires_at": poll.expires_at,
        "expired": polls.is_expired(poll),
        "multiple": poll.multiple,
        "votes_count": poll.votes_count,
        "voters_count": poll.voters_count,
        "options": [
            {"title": title, "votes_count": poll.tallies[n] if totals else None}
            for n, title in enumerate(poll.options)
        ],
        "emojis": [],
    }
    if signed_in:
        entity["voted"] = bool(own)
        entity["own_votes"] = own or []
    return entity


def poll_entities(
    viewer: Account | None, found: dict[int, Poll], own: dict[int, list[int]]
) -> dict[int, dict[str, Any]]:
    """The Poll entities of a page of posts (read with the page: store/pages.py)."""
    return {
        status_id: poll_entity(poll, own.get(status_id), viewer is not None)
        for status_id, poll in found.items()
    }


async def _visible_poll(ctx: Context, viewer: Account | None, poll_id: int) -> Poll:
    status = await timelines.visible_status(ctx, viewer, poll_id)
    return await polls.poll_of(ctx, status)


@routes.get("/api/v1/polls/{id}")
async def show(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    viewer = await optional_user(request, "read:statuses")
    poll = await _visible_poll(ctx, viewer, path_id(request))
    own = await ctx.store.own_choices([poll.status_id], viewer.id) if viewer else {}
    return web.json_response(poll_entity(poll, own.get(poll.status_id), viewer is not None))


@routes.post("/api/v1/polls/{id}/votes")
async def vote(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    voter = await require_user(request, "write:statuses")
    status = await timelines.visible_status(ctx, voter, path_id(request))
    params = await read_params(request)
    raw = params.get("choices[]", params.get("choices", []))
    values = raw if isinstance(raw, list) else [raw]
    try:
        choices = [int(v) for v in values if not isinstance(v, bool)]
    except (TypeError, ValueError):
        raise ApiError(422, "choices must be a list of option numbers") from None
    if len(choices) != len(values):
        raise ApiError(422, "choices must be a list of option numbers")
    poll = await polls.vote(ctx, voter, status, choices)
    own = await ctx.store.own_choices([poll.status_id], voter.id)
    return web.json_response(poll_entity(poll, own.get(poll.status_id), True))
