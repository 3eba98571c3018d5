"""Web Push subscriptions: one per OAuth token, read when a notification is pushed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from fedchirp.clock import now_iso
from fedchirp.store.db import Queries
from fedchirp.store.query import record
from fedchirp.store.schema import notifications, oauth_tokens, web_push_subscriptions

subs = web_push_subscriptions


@dataclass(frozen=True)
class PushSubscription:
    id: int
    token_id: int
    account_id: int
    access_token: str
    endpoint: str
    p256dh: str
    auth: str
    alerts: str  # a JSON object {type: bool}
    policy: str
    standard: bool
    created_at: str


class PushQueries(Queries):
    async def replace_push_subscription(self, values: dict[str, Any]) -> PushSubscription:
        """The token's subscription, replacing the one it had (Mastodon keeps one)."""
        async with self.db.atomic():
            await self.db.write(delete(subs).where(subs.c.token_id == values["token_id"]))
            rows = await self.db.write_returning(
                insert(subs).values(created_at=now_iso(), **values).returning(subs)
            )
        return record(PushSubscription, rows[0])  # type: ignore[return-value]

    async def push_subscription_of_token(self, token_id: int) -> PushSubscription | None:
        row = await self.db.one(select(subs).where(subs.c.token_id == token_id))
        return record(PushSubscription, row)

    async def update_push_subscription(
        self, token_id: int, alerts: str, policy: str
    ) -> PushSubscription | None:
        rows = await self.db.write_returning(
            update(subs)
            .where(subs.c.token_id == token_id)
            .values(alerts=alerts, policy=policy)
            .returning(subs)
        )
        return record(PushSubscription, rows[0] if rows else None)

    async def delete_push_subscription(self, token_id: int) -> None:
        await self.db.write(delete(subs).where(subs.c.token_id == token_id))

    async def delete_push_subscription_by_id(self, subscription_id: int) -> None:
        await self.db.write(delete(subs).where(subs.c.id == subscription_id))

    async def delete_push_subscriptions_of_revoked_tokens(self, token_hash: str) -> None:
        """A revoked token's subscription goes with it (tokens are kept, marked revoked)."""
        revoked = select(oauth_tokens.c.id).where(
            oauth_tokens.c.token_hash == token_hash, oauth_tokens.c.revoked_at.is_not(None)
        )
        await self.db.write(delete(subs).where(subs.c.token_id.in_(revoked)))

    async def push_subscriptions_for(self, account_ids: Iterable[int]) -> list[PushSubscription]:
        """These accounts' subscriptions whose tokens are live."""
        ids = list(account_ids)
        if not ids:
            return []
        rows = await self.db.all(
            select(subs)
            .join(oauth_tokens, oauth_tokens.c.id == subs.c.token_id)
            .where(subs.c.account_id.in_(ids), oauth_tokens.c.revoked_at.is_(None))
            .order_by(subs.c.id)
        )
        return [record(PushSubscription, row) for row in rows]  # type: ignore[misc]

    async def push_subscription_by_id(self, subscription_id: int) -> PushSubscription | None:
        """A subscription, unless its token was revoked."""
        row = await self.db.one(
            select(subs)
            .join(oauth_tokens, oauth_tokens.c.id == subs.c.token_id)
            .where(subs.c.id == subscription_id, oauth_tokens.c.revoked_at.is_(None))
        )
        return record(PushSubscription, row)

    async def newest_notification_id(
        self, account_id: int, kind: str, from_account_id: int, status_id: int | None
    ) -> int | None:
        """The id of the newest notification of this kind, from this account, about this
        status (the one notify just wrote: insert_notifications returns no ids)."""
        status_match = (
            notifications.c.status_id.is_(None)
            if status_id is None
            else notifications.c.status_id == status_id
        )
        return await self.db.scalar(
            select(notifications.c.id)
            .where(
                notifications.c.account_id == account_id,
                notifications.c.type == kind,
                notifications.c.from_account_id == from_account_id,
                status_match,
            )
            .order_by(notifications.c.id.desc())
            .limit(1)
        )
