"""Circles: named groups of an account's followers that posts can be addressed to."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Text, delete, insert, literal, select, update

from fedchirp.clock import now_iso
from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.models import Account, Circle
from fedchirp.store.query import record, records
from fedchirp.store.schema import accounts, circle_members, circles, follows, statuses


class CircleQueries(Queries):
    async def insert_circle(self, account_id: int, title: str) -> Circle:
        """Create a circle; return it as stored."""
        rows = await self.db.write_returning(
            insert(circles)
            .values(account_id=account_id, title=title, created_at=now_iso())
            .returning(circles)
        )
        found = record(Circle, rows[0])
        assert found is not None
        return found

    async def get_circle(self, circle_id: int) -> Circle | None:
        return record(Circle, await self.db.one(select(circles).where(circles.c.id == circle_id)))

    async def find_circle(self, account_id: int, title: str) -> Circle | None:
        """An account's circle by its exact title."""
        row = await self.db.one(
            select(circles).where(circles.c.account_id == account_id, circles.c.title == title)
        )
        return record(Circle, row)

    async def circles_of(self, account_id: int) -> list[Circle]:
        """An account's circles by title."""
        rows = await self.db.all(
            select(circles)
            .where(circles.c.account_id == account_id)
            .order_by(circles.c.title, circles.c.id)
        )
        return records(Circle, rows)

    async def rename_circle(self, circle_id: int, title: str) -> None:
        await self.db.write(update(circles).where(circles.c.id == circle_id).values(title=title))

    async def delete_circle(self, circle_id: int) -> None:
        """Delete a circle. Its past posts keep the audience they had: they are detached
        first, so the membership triggers do not take access away from anyone."""
        async with self.db.atomic() as conn:
            await conn.execute(
                update(statuses).where(statuses.c.circle_id == circle_id).values(circle_id=None)
            )
            await conn.execute(delete(circles).where(circles.c.id == circle_id))

    async def circle_members(self, circle_id: int) -> list[Account]:
        """A circle's members, in the order they were added."""
        rows = await self.db.all(
            select(accounts)
            .join(circle_members, circle_members.c.account_id == accounts.c.id)
            .where(circle_members.c.circle_id == circle_id)
            .order_by(circle_members.c.created_at, accounts.c.id)
        )
        return records(Account, rows)

    async def add_circle_members(self, circle_id: int, account_ids: Sequence[int]) -> int:
        """Add accounts that are accepted followers of the circle's owner; return how many
        were added (others are skipped)."""
        if not account_ids:
            return 0
        followers = (
            select(circles.c.id, follows.c.follower_id, literal(now_iso(), Text))
            .join(
                follows,
                (follows.c.followee_id == circles.c.account_id) & (follows.c.state == "accepted"),
            )
            .where(circles.c.id == circle_id, follows.c.follower_id.in_(list(account_ids)))
        )
        statement = (
            dialect.insert_ignore(self.db.dialect, circle_members)
            .from_select(["circle_id", "account_id", "created_at"], followers)
            .returning(circle_members.c.account_id)
        )
        return len(await self.db.write_returning(statement))

    async def remove_circle_members(self, circle_id: int, account_ids: Sequence[int]) -> None:
        if not account_ids:
            return
        await self.db.write(
            delete(circle_members).where(
                circle_members.c.circle_id == circle_id,
                circle_members.c.account_id.in_(list(account_ids)),
            )
        )
