"""Invite links and the server's rules: what an admin sets up for people to sign up."""

from __future__ import annotations

import re
import secrets
import string
import time

from fedchirp.services.errors import Invalid, NotFound
from fedchirp.store import Store
from fedchirp.store.models import Account
from fedchirp.store.signup import Invite, Rule

MAX_RULE_CHARS = 300  # Mastodon's limit on a rule's text
MAX_HINT_CHARS = 1_000
CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 12
_DURATION_RE = re.compile(r"(\d+)([mhdw])")
_UNIT_SECONDS = {"m": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400}


def parse_duration(text: str) -> int:
    """'30m', '12h', '7d' or '2w' as seconds."""
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise Invalid(f"{text!r} is not a duration such as 30m, 12h, 7d or 2w")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _new_code() -> str:
    """Letters and digits only: a code starting with "-" would read as an option on the
    command line (`fedchirp invite revoke CODE`). 12 of 62 symbols: about 71 bits."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def create_invite(
    store: Store, creator: Account, max_uses: int | None, expires_in: int | None
) -> Invite:
    """A new invite; None for max_uses or expires_in (seconds) means no limit."""
    if max_uses is not None and max_uses < 1:
        raise Invalid("max uses must be at least 1")
    expires_at = time.time() + expires_in if expires_in is not None else None
    return await store.insert_invite(_new_code(), creator.id, max_uses, expires_at)


async def list_invites(store: Store) -> list[Invite]:
    return await store.list_invites()


async def revoke_invite(store: Store, code: str) -> Invite:
    """Expire an invite now; sign-ups it brought stay."""
    invite = await store.get_invite(code)
    if invite is None:
        raise NotFound(f"no invite {code!r}")
    await store.expire_invite(code, time.time())
    return invite


async def add_rule(store: Store, text: str, hint: str = "") -> Rule:
    text, hint = text.strip(), hint.strip()
    if not text:
        raise Invalid("a rule needs text")
    if len(text) > MAX_RULE_CHARS:
        raise Invalid(f"a rule is at most {MAX_RULE_CHARS} characters")
    if len(hint) > MAX_HINT_CHARS:
        raise Invalid(f"a rule's hint is at most {MAX_HINT_CHARS} characters")
    return await store.insert_rule(text, hint)


async def list_rules(store: Store) -> list[Rule]:
    return await store.list_rules()


async def remove_rule(store: Store, rule_id: int) -> None:
    if not await store.delete_rule(rule_id):
        raise NotFound(f"no rule {rule_id}")


def invite_url(base_url: str, code: str) -> str:
    """The link to hand out: it opens the sign-up page with the invite filled in."""
    return f"{base_url}/invite/{code}"
