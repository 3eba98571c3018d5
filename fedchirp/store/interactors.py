"""Who liked or boosted a post: the accounts, paged as Mastodon pages them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from fedchirp.store.db import Queries
from fedchirp.store.models import Account, Page
from fedchirp.store.query import newest_first, paged, record
from fedchirp.store.schema import accounts, favourites, statuses


class InteractorQueries(Queries):
    async def interactor_favourites_page(
        self, status_id: int, page: Page
    ) -> list[tuple[int, Account]]:
        """(favourite id, account) of those who liked the post, newest like first."""
        statement = select(accounts, favourites.c.id.label("position")).join(
            favourites, favourites.c.account_id == accounts.c.id
        ).where(favourites.c.status_id == status_id)
        return await self._interactor_rows(statement, favourites.c.id, page)

    async def interactor_reblogs_page(
        self, status_id: int, page: Page
    ) -> list[tuple[int, Account]]:
        """(boost's status id, account) of those who boosted the post, newest boost first."""
        statement = select(accounts, statuses.c.id.label("position")).join(
            statuses, statuses.c.account_id == accounts.c.id
        ).where(statuses.c.reblog_of_id == status_id)
        return await self._interactor_rows(statement, statuses.c.id, page)

    async def _interactor_rows(
        self, statement: Select[Any], position: ColumnElement[Any], page: Page
    ) -> list[tuple[int, Account]]:
        found = []
        for row in await self.db.all(paged(statement, position, page)):
            values = dict(row)
            at = values.pop("position")
            account = record(Account, values)
            assert account is not None
            found.append((at, account))
        return newest_first(found, page)
