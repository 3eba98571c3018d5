"""Accounts: creating and managing local ones, signing in, and finding any account by name
or id."""

from __future__ import annotations

import re
from typing import Any

from fedchirp.clock import now_iso
from fedchirp.federation.http import Signer
from fedchirp.federation.httpsig import generate_key_pair, public_key_pem
from fedchirp.federation.resolver import ResolveError
from fedchirp.federation.vocab import is_http_uri
from fedchirp.services.context import Context
from fedchirp.services.errors import Conflict, Forbidden, Gone, Invalid, NotFound, Unavailable
from fedchirp.services.passwords import hash_password, verify_password
from fedchirp.store import Store
from fedchirp.store.models import Account, LocalUser
from fedchirp.urls import Urls

USERNAME_RE = re.compile(r"[A-Za-z0-9_]{1,30}")
MIN_PASSWORD_LENGTH = 8
ACTOR_TYPES = ("Person", "Service", "Organization")
INSTANCE_KEY_SETTING = "instance_actor_private_key"
# Mastodon's words, so apps that show them read right.
PENDING_APPROVAL = "Your login is currently pending approval"


async def create_local_account(
    store: Store,
    urls: Urls,
    username: str,
    password: str,
    *,
    display_name: str = "",
    locked: bool = False,
    admin: bool = False,
    actor_type: str = "Person",
    sign_up: dict[str, Any] | None = None,
) -> Account:
    """Create a local account with its RSA-2048 key pair; sign_up holds what a sign-up
    records on the user (approved, email, sign_up_reason, invite_id)."""
    if not USERNAME_RE.fullmatch(username):
        raise Invalid("username must be 1-30 letters, digits or underscores")
    check_password(password)
    if actor_type not in ACTOR_TYPES:
        raise Invalid(f"account type must be one of {', '.join(ACTOR_TYPES)}")
    if await store.find_account(username, "") is not None:
        # Also a deleted account's: other servers know that name by its old key.
        raise Conflict(f"username {username!r} is taken")
    private_pem, public_pem = generate_key_pair()
    row = {
        "username": username,
        "domain": "",
        "display_name": display_name,
        "actor_type": actor_type,
        "locked": int(locked),
        "uri": urls.actor(username),
        "url": urls.profile(username),
        "inbox_url": urls.inbox(username),
        "shared_inbox_url": urls.shared_inbox,
        "outbox_url": urls.outbox(username),
        "followers_url": urls.followers(username),
        "following_url": urls.following(username),
        "public_key_id": urls.key_id(username),
        "public_key_pem": public_pem,
        "created_at": now_iso(),
    }
    return await store.insert_local_account(
        row, hash_password(password), private_pem, admin, sign_up
    )


async def authenticate(store: Store, username: str, password: str) -> Account | None:
    """The local account these credentials belong to, or None. The right password of a
    sign-up that an admin has not approved yet raises Forbidden(PENDING_APPROVAL), so the
    person learns why they cannot sign in."""
    account = await store.find_account(username.removeprefix("@"), "")
    if account is None:
        return None
    user = await store.get_local_user(account.id)
    if user is None or not verify_password(password, user.password_hash):
        return None
    if user.disabled or account.suspended_at:
        return None
    if not user.approved:
        raise Forbidden(PENDING_APPROVAL)
    return account


# -- managing local users (the admin's `fedchirp user` commands) -------------------------


async def local_users(store: Store) -> list[tuple[Account, LocalUser]]:
    """Every local account but those that deleted themselves."""
    return [
        (account, user)
        for account, user in await store.list_local_users()
        if not await store.is_account_deleted(account)
    ]


async def local_user(store: Store, username: str) -> tuple[Account, LocalUser]:
    account = await store.find_account(username.removeprefix("@"), "")
    user = await store.get_local_user(account.id) if account is not None else None
    if account is None or user is None or await store.is_account_deleted(account):
        raise NotFound(f"no local account {username!r}")
    return account, user


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


async def reset_password(store: Store, username: str, password: str) -> Account:
    """Set a new password; the account is signed out everywhere (tokens revoked)."""
    check_password(password)
    account, _ = await local_user(store, username)
    await store.set_password_hash(account.id, hash_password(password))
    return account


async def set_disabled(store: Store, username: str, disabled: bool) -> Account:
    """A disabled user cannot sign in or get tokens, and their tokens and sessions end
    (enabling again lets them sign in; the ended ones stay ended)."""
    account, _ = await local_user(store, username)
    await store.set_user_disabled(account.id, disabled)
    return account


async def set_admin(store: Store, username: str, admin: bool) -> Account:
    account, _ = await local_user(store, username)
    await store.set_user_admin(account.id, admin)
    return account


async def local_account(ctx: Context, username: str) -> Account:
    account = await ctx.store.find_account(username, "")
    if account is None or await ctx.store.get_local_user(account.id) is None:
        raise NotFound(f"no local account {username!r}")
    if await ctx.store.is_account_deleted(account):
        raise Gone(f"the account {username!r} was deleted")
    return account


async def local_account_by_uri(ctx: Context, uri: str | None) -> Account | None:
    """The local account whose actor id this is, if any."""
    if uri is None or not ctx.urls.is_local(uri):
        return None
    account = await ctx.store.get_account_by_uri(uri)
    return account if account is not None and account.is_local else None


async def local_account_for_resource(ctx: Context, resource: str) -> Account | None:
    """The local account a WebFinger resource names: acct:user@ourdomain, or the URL of
    its actor or profile page."""
    domain = ctx.config.server.domain.lower()
    if resource.startswith("acct:") or ("@" in resource and "://" not in resource):
        user, _, host = resource.removeprefix("acct:").removeprefix("@").partition("@")
        if host.lower() != domain:
            return None
        account = await ctx.store.find_account(user, "")
    elif ctx.urls.is_local(resource):
        account = await ctx.store.get_account_by_uri(resource)
        if account is None and resource.startswith(f"{ctx.urls.base}/@"):
            account = await ctx.store.find_account(resource.split("/@", 1)[1], "")
    else:
        return None
    if account is None or not account.is_local or await ctx.store.is_account_deleted(account):
        return None
    return account


async def account_by_id(ctx: Context, account_id: int) -> Account:
    account = await ctx.store.get_account(account_id)
    if account is None or (account.is_local and await ctx.store.is_account_deleted(account)):
        raise NotFound("account not found")
    return account


def parse_handle(handle: str) -> tuple[str, str | None]:
    """'user', '@user', 'user@host' or '@user@host' as (user, host or None)."""
    user, _, host = handle.strip().removeprefix("acct:").removeprefix("@").partition("@")
    if not USERNAME_RE.fullmatch(user) and not re.fullmatch(r"[\w.\-]{1,64}", user):
        raise Invalid(f"{handle!r} is not an account handle")
    return user, (host.lower() or None)


async def resolve_account(ctx: Context, query: str, resolve_remote: bool = True) -> Account:
    """Find an account by handle or actor URL, asking remote servers when allowed."""
    query = query.strip()
    try:
        if is_http_uri(query):
            if ctx.urls.is_local(query):
                found = await ctx.store.get_account_by_uri(query)
                if found is None:
                    raise NotFound(f"no account at {query}")
                return found
            if not resolve_remote:
                found = await ctx.store.get_account_by_uri(query)
                if found is None:
                    raise NotFound(f"{query} is not known here")
                return found
            return await ctx.resolver.actor(query)
        user, host = parse_handle(query)
        if host is None or host == ctx.config.server.domain.lower():
            return await local_account(ctx, user)
        known = await ctx.store.find_account(user, host)
        if known is not None or not resolve_remote:
            if known is None:
                raise NotFound(f"{user}@{host} is not known here")
            return known
        return await ctx.resolver.webfinger(user, host)
    except ResolveError as exc:
        raise Unavailable(str(exc)) from exc


async def instance_signer(store: Store, urls: Urls) -> tuple[Signer, str]:
    """The instance actor's signer and public key, created on first use."""
    pem = await store.get_setting(INSTANCE_KEY_SETTING)
    if pem is None:
        private_pem, _ = generate_key_pair()
        pem = await store.set_setting_if_absent(INSTANCE_KEY_SETTING, private_pem)
    return Signer(urls.instance_key_id, pem), public_key_pem(pem)
