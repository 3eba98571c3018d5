"""Sign-up: who may join (the registration mode and invites), what a new account must be
(Mastodon's checks), and an admin approving or rejecting those who asked.

Modes (config [registrations] mode): closed lets in only people with a usable invite;
approval creates accounts that cannot sign in until an admin approves them; open lets
anyone in at once. A usable invite skips approval, as in Mastodon.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from fedchirp.config import Config
from fedchirp.services import accounts
from fedchirp.services.errors import Conflict, Forbidden, Invalid, NotFound
from fedchirp.store import Store
from fedchirp.store.models import Account
from fedchirp.store.signup import Invite
from fedchirp.urls import Urls

# Mastodon's reserved usernames, and names of this server's own parts.
RESERVED_USERNAMES = frozenset(
    {"admin", "support", "help", "root", "webmaster", "administrator", "mod", "moderator"}
    | {"instance", "actor", "fedchirp", "postmaster", "abuse", "security", "noreply"}
)
# ASCII only, spelled out: with re.IGNORECASE, [a-z] would also match the Kelvin sign.
SIGN_UP_USERNAME_RE = re.compile(r"[A-Za-z0-9_]+")
MAX_USERNAME = 30
MAX_PASSWORD = 72  # bcrypt's limit, as Mastodon's
MAX_EMAIL = 254
MAX_REASON = 500
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
LOCALE_RE = re.compile(r"[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?")
SIGN_UP_NOTICE = "admin.sign_up"
CLOSED = "Registrations are closed on this server: you need an invite"
BAD_INVITE = "This invite is not valid: it is unknown, used up or expired"


class SignUpInvalid(Invalid):
    """Fields break the rules; details maps a field to [(ERR_CODE, description)], the
    shape of Mastodon's 422 answer to POST /api/v1/accounts."""

    def __init__(self, details: dict[str, list[tuple[str, str]]]) -> None:
        words = [
            f"{name.capitalize()} {text}" for name, errs in details.items() for _, text in errs
        ]
        super().__init__("Validation failed: " + ", ".join(words))
        self.details = details


@dataclass(frozen=True)
class SignUp:
    username: str
    email: str
    password: str
    agreement: bool
    reason: str = ""
    locale: str = ""
    invite_code: str = ""
    password_confirmation: str | None = None  # the page asks twice; the API once


@dataclass
class _Problems:
    details: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, name: str, code: str, text: str) -> None:
        self.details.setdefault(name, []).append((code, text))


def registrations_open(config: Config) -> bool:
    """Can anyone ask to join (open or approval), without an invite?"""
    return config.registrations.mode != "closed"


def approval_required(config: Config) -> bool:
    return config.registrations.mode == "approval"


async def usable_invite(store: Store, code: str) -> Invite | None:
    if not code:
        return None
    invite = await store.get_invite(code)
    return invite if invite is not None and invite.usable(time.time()) else None


async def may_sign_up(store: Store, config: Config, invite_code: str) -> Invite | None:
    """The invite the sign-up goes by (if usable); Forbidden when closed without one."""
    invite = await usable_invite(store, invite_code)
    if invite is None and not registrations_open(config):
        raise Forbidden(BAD_INVITE if invite_code else CLOSED)
    return invite


async def _check(store: Store, config: Config, form: SignUp, invited: bool) -> None:
    problems = _Problems()
    _check_username(form.username, problems)
    if "username" not in problems.details and (
        form.username.lower() in RESERVED_USERNAMES or await store.username_retired(form.username)
    ):
        problems.add("username", "ERR_RESERVED", "is reserved")
    if "username" not in problems.details and await store.find_account(form.username, ""):
        problems.add("username", "ERR_TAKEN", "is already taken")
    await _check_email(store, form.email, problems)
    _check_password(form, problems)
    if not form.agreement:
        problems.add("agreement", "ERR_ACCEPTED", "must be accepted")
    if approval_required(config) and not invited and not form.reason.strip():
        problems.add("reason", "ERR_BLANK", "can't be blank")
    if len(form.reason) > MAX_REASON:
        problems.add("reason", "ERR_TOO_LONG", f"is too long (maximum is {MAX_REASON})")
    if form.locale and not LOCALE_RE.fullmatch(form.locale):
        problems.add("locale", "ERR_INCLUSION", "is not included in the list")
    if problems.details:
        raise SignUpInvalid(problems.details)


def _check_username(username: str, problems: _Problems) -> None:
    if not username:
        problems.add("username", "ERR_BLANK", "can't be blank")
    elif len(username) > MAX_USERNAME:
        problems.add("username", "ERR_TOO_LONG", f"is too long (maximum is {MAX_USERNAME})")
    elif not SIGN_UP_USERNAME_RE.fullmatch(username):
        problems.add("username", "ERR_INVALID", "must contain only letters, numbers and _")


async def _check_email(store: Store, email: str, problems: _Problems) -> None:
    if not email:
        problems.add("email", "ERR_BLANK", "can't be blank")
    elif len(email) > MAX_EMAIL or not EMAIL_RE.fullmatch(email):
        problems.add("email", "ERR_INVALID", "is invalid")
    elif await store.email_taken(email):
        problems.add("email", "ERR_TAKEN", "is already taken")


def _check_password(form: SignUp, problems: _Problems) -> None:
    password = form.password
    if not password:
        problems.add("password", "ERR_BLANK", "can't be blank")
    elif len(password) < accounts.MIN_PASSWORD_LENGTH:
        problems.add(
            "password",
            "ERR_TOO_SHORT",
            f"is too short (minimum is {accounts.MIN_PASSWORD_LENGTH} characters)",
        )
    elif len(password) > MAX_PASSWORD:
        problems.add("password", "ERR_TOO_LONG", f"is too long (maximum is {MAX_PASSWORD})")
    if form.password_confirmation is not None and form.password_confirmation != password:
        problems.add("password_confirmation", "ERR_INVALID", "doesn't match password")


async def sign_up(store: Store, config: Config, form: SignUp) -> tuple[Account, bool]:
    """Create the account a sign-up asks for: (account, approved). Raises Forbidden when
    registrations are closed and no usable invite came, SignUpInvalid for bad fields."""
    invite = await may_sign_up(store, config, form.invite_code)
    await _check(store, config, form, invite is not None)
    invite_id = None
    if invite is not None:
        invite_id = await store.use_invite(invite.code, time.time())
        if invite_id is None and not registrations_open(config):
            raise Forbidden(BAD_INVITE)  # its last use went to someone else meanwhile
    approved = invite_id is not None or not approval_required(config)
    details = {
        "approved": int(approved),
        "email": form.email,
        "sign_up_reason": form.reason.strip(),
        "invite_id": invite_id,
    }
    try:
        account = await accounts.create_local_account(
            store, Urls(config.base_url), form.username, form.password, sign_up=details
        )
    except (Conflict, Invalid) as exc:
        if invite_id is not None:
            await store.give_back_invite(invite_id)
        if isinstance(exc, Conflict):  # taken between the check and the insert
            raise SignUpInvalid({"username": [("ERR_TAKEN", "is already taken")]}) from exc
        raise
    # Mastodon's admin.sign_up notification: admins learn of newcomers, and of those
    # waiting for them.
    admins = await store.admin_account_ids()
    await store.insert_notifications(
        [(admin, SIGN_UP_NOTICE, account.id, None) for admin in admins]
    )
    return account, approved


# -- approving and rejecting --------------------------------------------------------------


async def pending_user(store: Store, account_id: int) -> Account:
    account = await store.get_account(account_id)
    user = await store.get_local_user(account_id) if account is not None else None
    if account is None or user is None:
        raise NotFound("Record not found")
    if user.approved:
        raise Invalid(f"{account.username} is not waiting for approval")
    return account


async def approve(store: Store, account_id: int) -> Account:
    """Let a pending sign-up in: from now on it can sign in and use its tokens."""
    account = await pending_user(store, account_id)
    if not await store.approve_user(account_id):
        raise Invalid(f"{account.username} is not waiting for approval")
    return account


async def reject(store: Store, account_id: int) -> Account:
    """Delete a pending sign-up; its username becomes free again (as Mastodon's reject)."""
    account = await pending_user(store, account_id)
    await store.delete_account(account_id)
    return account
