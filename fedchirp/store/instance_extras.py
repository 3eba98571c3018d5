"""Reads for instance-wide numbers (peers, weekly activity) and familiar followers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, select, union

from fedchirp.store.db import Queries
from fedchirp.store.ids import first_id_at
from fedchirp.store.models import Account
from fedchirp.store.query import records
from fedchirp.store.schema import (
    accounts,
    follows,
    local_users,
    oauth_tokens,
    statuses,
    web_sessions,
)


class InstanceExtraQueries(Queries):
    async def known_domains(self) -> list[str]:
        """Every other server we know an account on, in order."""
        return list(
            await self.db.scalars(
                select(accounts.c.domain)
                .distinct()
                .where(accounts.c.domain != "")
                .order_by(accounts.c.domain)
            )
        )

    async def count_local_posts_in(self, start: datetime, end: datetime) -> int:
        """Local posts (not boosts) made in [start, end): a range of ids, which are times."""
        low_id, high_id = first_id_at(start), first_id_at(end)
        return int(
            await self.db.scalar(
                select(func.count()).where(
                    statuses.c.id >= low_id,
                    statuses.c.id < high_id,
                    statuses.c.local == 1,
                    statuses.c.reblog_of_id.is_(None),
                )
            )
            or 0
        )

    async def count_registrations_in(self, start: str, end: str) -> int:
        return int(
            await self.db.scalar(
                select(func.count()).where(
                    local_users.c.created_at >= start, local_users.c.created_at < end
                )
            )
            or 0
        )

    async def count_sign_ins_in(self, start: str, end: str) -> int:
        """Accounts that signed in (made an app token or a web session) in [start, end)."""
        tokens = select(oauth_tokens.c.account_id.label("account_id")).where(
            oauth_tokens.c.account_id.is_not(None),
            oauth_tokens.c.created_at >= start,
            oauth_tokens.c.created_at < end,
        )
        sessions = select(web_sessions.c.account_id.label("account_id")).where(
            web_sessions.c.created_at >= start, web_sessions.c.created_at < end
        )
        signed_in = union(tokens, sessions).subquery()  # UNION: each account once
        return int(await self.db.scalar(select(func.count()).select_from(signed_in)) or 0)

    async def familiar_followers(
        self, viewer_id: int, account_ids: Sequence[int]
    ) -> dict[int, list[Account]]:
        """For each account, those who follow it that the viewer follows (accepted)."""
        found: dict[int, list[Account]] = {account_id: [] for account_id in account_ids}
        if not account_ids:
            return found
        theirs = follows.alias("theirs")
        mine = follows.alias("mine")
        rows = await self.db.all(
            select(theirs.c.followee_id.label("familiar_of"), accounts)
            .join(accounts, accounts.c.id == theirs.c.follower_id)
            .join(
                mine,
                and_(
                    mine.c.followee_id == theirs.c.follower_id,
                    mine.c.follower_id == viewer_id,
                    mine.c.state == "accepted",
                ),
            )
            .where(theirs.c.followee_id.in_(list(account_ids)), theirs.c.state == "accepted")
            .order_by(theirs.c.id.desc())
        )
        for row in rows:
            familiar_of = row.pop("familiar_of")
            found[familiar_of].extend(records(Account, [row]))
        return found
