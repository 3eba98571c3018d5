"""Editing one's own profile: name, bio, avatar, header, fields and flags; and password.

Limits are Mastodon's: a display name of 30 characters, a bio of 500, four fields of 255
characters a name and a value. Everything is checked before anything is written, so a
request with one bad part changes nothing. A change is sent as Update(Person), carrying
the whole actor, to every server with followers of the account, in the unit of work
that writes it; links in fields are then checked for rel="me" by jobs (services/relme.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fedchirp import html
from fedchirp.clock import now_iso
from fedchirp.federation.documents import profile_update_activity
from fedchirp.federation.profile import ProfileField, fields_from_json, fields_to_json
from fedchirp.services import follows, posting, relme
from fedchirp.services.accounts import check_password
from fedchirp.services.context import Context
from fedchirp.services.errors import Forbidden, Invalid
from fedchirp.services.passwords import hash_password, verify_password
from fedchirp.services.profile_images import AVATAR_SIZE, HEADER_SIZE, store_profile_image
from fedchirp.store.models import Account, LocalUser

MAX_DISPLAY_NAME = 30
MAX_NOTE = 500
MAX_FIELDS = 4
MAX_FIELD_TEXT = 255
BOT_TYPE = "Service"


@dataclass(frozen=True)
class ProfileChanges:
    """What a profile edit asks for; None leaves a part as it is."""

    display_name: str | None = None
    note: str | None = None
    avatar: bytes | None = None
    header: bytes | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    fields: list[tuple[str, str]] | None = None  # (name, value) as typed


def check_changes(changes: ProfileChanges) -> None:
    """Refuse text past the limits, with a reason naming the part."""
    if changes.display_name is not None and len(changes.display_name) > MAX_DISPLAY_NAME:
        raise Invalid(f"display_name is longer than {MAX_DISPLAY_NAME} characters")
    if changes.note is not None and len(changes.note) > MAX_NOTE:
        raise Invalid(f"note is longer than {MAX_NOTE} characters")
    if changes.fields is not None:
        if len(changes.fields) > MAX_FIELDS:
            raise Invalid(f"a profile has at most {MAX_FIELDS} fields")
        for name, value in changes.fields:
            if len(name) > MAX_FIELD_TEXT or len(value) > MAX_FIELD_TEXT:
                raise Invalid(f"field names and values are at most {MAX_FIELD_TEXT} characters")
            if value.strip() and not name.strip():
                raise Invalid("a profile field with a value needs a name")


def field_html(ctx: Context, value: str) -> str:
    """A field value as Mastodon renders one: one line, links marked rel="me"."""
    rendered = html.render_plain_text(value.replace("\n", " "), lambda _u, _h: None, ctx.urls.tag)
    rendered = rendered.removeprefix("<p>").removesuffix("</p>")
    return rendered.replace(
        'rel="nofollow noopener noreferrer"', 'rel="nofollow noopener noreferrer me"'
    )


def field_source(field: ProfileField) -> str:
    """The value as it was typed (what the edit form and source.fields show)."""
    return html.to_text(field.value)


def _new_fields(ctx: Context, account: Account, typed: list[tuple[str, str]]) -> list[ProfileField]:
    """Fields from typed text; one whose value did not change keeps its verification."""
    before = {(f.name, field_source(f)): f.verified_at for f in fields_from_json(account.fields)}
    return [
        ProfileField(
            name.strip(), field_html(ctx, value.strip()), before.get((name.strip(), value.strip()))
        )
        for name, value in typed
        if name.strip()
    ]


async def update_profile(ctx: Context, account: Account, changes: ProfileChanges) -> Account:
    """Apply a profile edit and tell the servers of the account's followers."""
    check_changes(changes)
    user = await ctx.store.get_local_user(account.id)
    assert user is not None
    account_values: dict[str, Any] = {}
    user_values: dict[str, Any] = {}
    if changes.display_name is not None:
        account_values["display_name"] = changes.display_name.strip()
    if changes.note is not None:
        user_values["note_source"] = changes.note
        account_values["note"] = await posting.render_text(ctx, changes.note)
    if changes.locked is not None:
        account_values["locked"] = int(changes.locked)
    if changes.discoverable is not None:
        account_values["discoverable"] = int(changes.discoverable)
    if changes.bot is not None:
        account_values["actor_type"] = _actor_type(account.actor_type, changes.bot)
    stored: list[str] = []
    try:
        replaced = await _store_images(ctx, changes, account_values, user_values, user, stored)
        updated = await _write(ctx, account, account_values, user_values, changes.fields)
    except BaseException:
        for name in stored:  # nothing was changed: the new files are nobody's
            await ctx.media_storage.delete(name)
        raise
    for name in replaced:
        await ctx.media_storage.delete(name)
    if account.locked and changes.locked is False:
        # As Mastodon does: unlocking lets in everyone who was waiting.
        for _, follower in await follows.pending_requests(ctx, updated):
            await follows.authorize(ctx, updated, follower)
    return updated


async def remove_image(ctx: Context, account: Account, kind: str) -> Account:
    """Take the avatar or header away (the default picture is shown again)."""
    assert kind in ("avatar", "header")
    user = await ctx.store.get_local_user(account.id)
    assert user is not None
    old = user.avatar_file if kind == "avatar" else user.header_file
    if not old:
        return account
    updated = await _write(ctx, account, {f"{kind}_url": ""}, {f"{kind}_file": None}, None)
    await ctx.media_storage.delete(old)
    return updated


async def _write(
    ctx: Context,
    account: Account,
    account_values: dict[str, Any],
    user_values: dict[str, Any],
    typed_fields: list[tuple[str, str]] | None,
) -> Account:
    """The profile, its Update(Person) and its rel=me checks, in one unit of work."""
    async with ctx.store.atomic():
        new_fields = None
        if typed_fields is not None:
            # Read under a lock: a rel=me check finishing meanwhile is kept, not lost.
            current = await ctx.store.lock_account(account.id) or account
            new_fields = _new_fields(ctx, current, typed_fields)
            account_values["fields"] = fields_to_json(new_fields)
        updated = await ctx.store.update_profile(account.id, account_values, user_values)
        await federate_profile(ctx, updated)
        if new_fields is not None:
            await relme.queue_checks(ctx, updated, new_fields)
    return updated


def _actor_type(current: str, bot: bool) -> str:
    if bot:
        return BOT_TYPE
    return "Person" if current in (BOT_TYPE, "Application") else current


async def _store_images(
    ctx: Context,
    changes: ProfileChanges,
    account_values: dict[str, Any],
    user_values: dict[str, Any],
    user: LocalUser,
    stored: list[str],
) -> list[str]:
    """Store new avatar/header files (their names added to stored as they are); return
    the names of the files they replace."""
    replaced = []
    for data, box, kind, old in (
        (changes.avatar, AVATAR_SIZE, "avatar", user.avatar_file),
        (changes.header, HEADER_SIZE, "header", user.header_file),
    ):
        if data is None:
            continue
        name = await store_profile_image(ctx, data, box)
        stored.append(name)
        user_values[f"{kind}_file"] = name
        account_values[f"{kind}_url"] = ctx.media_storage.url(name)
        if old:
            replaced.append(old)
    return replaced


async def federate_profile(ctx: Context, account: Account) -> None:
    """Queue Update(Person) with the whole actor to the servers of its followers."""
    inboxes = await ctx.store.remote_follower_inboxes(account.id)
    if inboxes:
        await ctx.delivery.enqueue(
            profile_update_activity(account, ctx.urls, now_iso()), account, inboxes
        )


async def change_password(ctx: Context, account: Account, current: str, new: str) -> None:
    """A new password, given the current one; every session and token ends (the person
    signs in again with the new one)."""
    user = await ctx.store.get_local_user(account.id)
    if user is None or not verify_password(current, user.password_hash):
        raise Forbidden("the current password is wrong")
    check_password(new)
    await ctx.store.set_password_hash(account.id, hash_password(new))


async def check_own_password(ctx: Context, account: Account, password: str) -> None:
    user = await ctx.store.get_local_user(account.id)
    if user is None or not verify_password(password, user.password_hash):
        raise Forbidden("the password is wrong")
