"""Sign-up: invites, server rules, pending users and the usernames of deleted accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.query import record, records
from fedchirp.store.schema import accounts, invites, local_users, rules, settings

# A deleted local account's username stays taken (as Mastodon keeps it): a newcomer
# must not inherit the name that old followers and links on other servers point to.
RETIRED_USERNAME_KEY = "retired_username:"


@dataclass(frozen=True)
class Invite:
    id: int
    code: str
    account_id: int
    max_uses: int | None
    uses: int
    expires_at: float | None  # unix seconds
    created_at: str

    def usable(self, now: float) -> bool:
        return (self.max_uses is None or self.uses < self.max_uses) and (
            self.expires_at is None or self.expires_at > now
        )


@dataclass(frozen=True)
class Rule:
    id: int
    text: str
    hint: str
    position: int
    created_at: str


class SignupQueries(Queries):
    async def insert_invite(
        self, code: str, account_id: int, max_uses: int | None, expires_at: float | None
    ) -> Invite:
        rows = await self.db.write_returning(
            insert(invites)
            .values(
                code=code,
                account_id=account_id,
                max_uses=max_uses,
                expires_at=expires_at,
                created_at=now_iso(),
            )
            .returning(invites)
        )
        return record(Invite, rows[0])  # type: ignore[return-value]

    async def get_invite(self, code: str) -> Invite | None:
        return record(Invite, await self.db.one(select(invites).where(invites.c.code == code)))

    async def list_invites(self) -> list[Invite]:
        return records(Invite, await self.db.all(select(invites).order_by(invites.c.id)))

    async def expire_invite(self, code: str, now: float) -> None:
        """End an invite now (its record stays: the users it brought keep pointing at it)."""
        await self.db.write(
            update(invites)
            .where(
                invites.c.code == code,
                or_(invites.c.expires_at.is_(None), invites.c.expires_at > now),
            )
            .values(expires_at=now)
        )

    async def use_invite(self, code: str, now: float) -> int | None:
        """Count one use of a usable invite, in one statement so two sign-ups cannot take
        its last use both; its id, or None when it is unknown, used up or expired."""
        rows = await self.db.write_returning(
            update(invites)
            .where(
                invites.c.code == code,
                or_(invites.c.max_uses.is_(None), invites.c.uses < invites.c.max_uses),
                or_(invites.c.expires_at.is_(None), invites.c.expires_at > now),
            )
            .values(uses=invites.c.uses + 1)
            .returning(invites.c.id)
        )
        return rows[0]["id"] if rows else None

    async def give_back_invite(self, invite_id: int) -> None:
        """Undo use_invite for a sign-up that failed after it."""
        await self.db.write(
            update(invites)
            .where(invites.c.id == invite_id, invites.c.uses > 0)
            .values(uses=invites.c.uses - 1)
        )

    async def insert_rule(self, text: str, hint: str) -> Rule:
        async with self.db.atomic() as conn:
            last = (await conn.execute(select(func.max(rules.c.position)))).scalar()
            result = await conn.execute(
                insert(rules)
                .values(text=text, hint=hint, position=(last or 0) + 1, created_at=now_iso())
                .returning(rules)
            )
            row = result.mappings().one()
        return record(Rule, row)  # type: ignore[return-value]

    async def list_rules(self) -> list[Rule]:
        rows = await self.db.all(select(rules).order_by(rules.c.position, rules.c.id))
        return records(Rule, rows)

    async def delete_rule(self, rule_id: int) -> bool:
        rows = await self.db.write_returning(
            delete(rules).where(rules.c.id == rule_id).returning(rules.c.id)
        )
        return bool(rows)

    async def email_taken(self, email: str) -> bool:
        found = await self.db.scalar(
            select(local_users.c.account_id).where(
                func.lower(local_users.c.email) == func.lower(email)
            )
        )
        return found is not None

    async def username_retired(self, username: str) -> bool:
        key = RETIRED_USERNAME_KEY + username.lower()
        return await self.db.scalar(select(settings.c.key).where(settings.c.key == key)) is not None

    async def admin_account_ids(self) -> list[int]:
        rows = await self.db.all(
            select(local_users.c.account_id).where(
                local_users.c.is_admin == 1, local_users.c.disabled == 0
            )
        )
        return [row["account_id"] for row in rows]

    async def approve_user(self, account_id: int) -> bool:
        """Let a pending user in; False if they were not pending."""
        rows = await self.db.write_returning(
            update(local_users)
            .where(and_(local_users.c.account_id == account_id, local_users.c.approved == 0))
            .values(approved=1)
            .returning(local_users.c.account_id)
        )
        return bool(rows)


async def retire_local_username(conn: AsyncConnection, account_id: int, dialect_name: str) -> None:
    """Keep a local account's username taken after it is deleted (inside that unit); not a
    pending sign-up's, as Mastodon frees the name of one that was never let in."""
    username = (
        await conn.execute(
            select(accounts.c.username)
            .select_from(accounts.join(local_users, local_users.c.account_id == accounts.c.id))
            .where(accounts.c.id == account_id, local_users.c.approved == 1)
        )
    ).scalar()
    if username is not None:
        key = RETIRED_USERNAME_KEY + username.lower()
        await conn.execute(
            dialect.insert_ignore(dialect_name, settings).values(key=key, value=now_iso())
        )
