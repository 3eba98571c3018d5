"""Reports: what users (here or elsewhere, through Flag) tell the admins, and the queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update

from fedchirp.clock import now_iso
from fedchirp.store.db import Queries
from fedchirp.store.models import Page, Report
from fedchirp.store.query import newest_first, paged, record, records
from fedchirp.store.schema import reports, rules


class ReportQueries(Queries):
    async def insert_report(self, values: dict[str, Any]) -> Report:
        now = now_iso()
        rows = await self.db.write_returning(
            insert(reports).values(created_at=now, updated_at=now, **values).returning(reports)
        )
        found = record(Report, rows[0])
        assert found is not None
        return found

    async def get_report(self, report_id: int) -> Report | None:
        return record(Report, await self.db.one(select(reports).where(reports.c.id == report_id)))

    async def get_report_by_uri(self, uri: str) -> Report | None:
        return record(Report, await self.db.one(select(reports).where(reports.c.uri == uri)))

    async def list_reports(
        self,
        resolved: bool | None,
        page: Page,
        account_id: int | None = None,
        target_account_id: int | None = None,
    ) -> list[Report]:
        """Newest first; resolved None lists both open and resolved ones."""
        statement = select(reports)
        if resolved is not None:
            taken = reports.c.action_taken_at
            statement = statement.where(taken.is_not(None) if resolved else taken.is_(None))
        if account_id is not None:
            statement = statement.where(reports.c.account_id == account_id)
        if target_account_id is not None:
            statement = statement.where(reports.c.target_account_id == target_account_id)
        rows = await self.db.all(paged(statement, reports.c.id, page))
        return newest_first(records(Report, rows), page)

    async def existing_rule_ids(self, rule_ids: Sequence[int]) -> set[int]:
        if not rule_ids:
            return set()
        return set(await self.db.scalars(select(rules.c.id).where(rules.c.id.in_(list(rule_ids)))))

    async def rule_texts(self, rule_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """(text, hint) of these rules, by id; ids not found are left out."""
        if not rule_ids:
            return {}
        rows = await self.db.all(select(rules).where(rules.c.id.in_(list(rule_ids))))
        return {row["id"]: (row["text"], row["hint"]) for row in rows}

    async def update_report(self, report_id: int, **values: Any) -> None:
        await self.db.write(
            update(reports).where(reports.c.id == report_id).values(updated_at=now_iso(), **values)
        )
