"""The settings pages: one's profile, password, and deleting one's account."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from fedchirp.federation.profile import fields_from_json
from fedchirp.services import account_deletion, profiles
from fedchirp.services.errors import Invalid, ServiceError
from fedchirp.web.pages.common import (
    SESSION_COOKIE,
    checked_form,
    go,
    go_with_problem,
    render,
    require_signed_in,
)
from fedchirp.web.state import ctx_of

routes = web.RouteTableDef()

PAGE = "/settings/profile"


@routes.get(PAGE)
async def settings_page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session = await require_signed_in(request)
    me = session.account
    user = await ctx.store.get_local_user(me.id)
    typed = [(f.name, profiles.field_source(f)) for f in fields_from_json(me.fields)]
    typed += [("", "")] * (profiles.MAX_FIELDS - len(typed))
    return await render(
        request,
        "settings.html",
        account=me,
        note_source=user.note_source if user else "",
        fields=typed,
        verified={f.name for f in fields_from_json(me.fields) if f.verified_at},
        limits={
            "display_name": profiles.MAX_DISPLAY_NAME,
            "note": profiles.MAX_NOTE,
            "field": profiles.MAX_FIELD_TEXT,
        },
    )


@routes.post(PAGE)
async def save_profile(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, form = await checked_form(request)
    limit = ctx.config.media.max_upload_bytes
    try:
        changes = profiles.ProfileChanges(
            display_name=str(form.get("display_name", "")),
            note=str(form.get("note", "")),
            avatar=_upload(form, "avatar", limit),
            header=_upload(form, "header", limit),
            locked="locked" in form,
            bot="bot" in form,
            discoverable="discoverable" in form,
            fields=[
                (str(form.get(f"field_name_{i}", "")), str(form.get(f"field_value_{i}", "")))
                for i in range(profiles.MAX_FIELDS)
            ],
        )
        await profiles.update_profile(ctx, session.account, changes)
    except ServiceError as exc:
        raise go_with_problem(session, PAGE, f"Not saved: {exc}") from exc
    raise go(PAGE, "ProfileSaved")


def _upload(form: MultiDictProxy[Any], name: str, limit: int) -> bytes | None:
    field = form.get(name)
    if isinstance(field, web.FileField) and field.filename:
        return field.file.read(limit + 1)
    return None


@routes.post("/settings/password")
async def change_password(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, form = await checked_form(request)
    new = str(form.get("new_password", ""))
    try:
        if new != str(form.get("confirm_password", "")):
            raise Invalid("the new passwords do not match")
        await profiles.change_password(ctx, session.account, str(form.get("password", "")), new)
    except ServiceError as exc:
        raise go_with_problem(session, PAGE, f"Password not changed: {exc}") from exc
    response = go("/login", "PasswordChanged")  # every session ended: sign in again
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


@routes.post("/settings/delete")
async def delete_account(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    session, form = await checked_form(request)
    try:
        if str(form.get("username", "")) != session.account.username:
            raise Invalid("type your username to confirm")
        await profiles.check_own_password(ctx, session.account, str(form.get("password", "")))
        await account_deletion.delete_local_account(ctx, session.account)
    except ServiceError as exc:
        raise go_with_problem(session, PAGE, f"Account not deleted: {exc}") from exc
    response = go("/", "AccountDeleted")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
