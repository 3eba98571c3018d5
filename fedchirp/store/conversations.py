"""Conversations: a user's direct-message threads, each with its newest post the user
may still see (the one visibility rule, and mutes as on the timelines)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, func, select, update

from fedchirp.store import dialect
from fedchirp.store.db import Queries
from fedchirp.store.models import Page
from fedchirp.store.query import newest_first
from fedchirp.store.schema import account_conversations, conversation_statuses, statuses
from fedchirp.store.visibility import not_muted, visible_to


@dataclass(frozen=True)
class Conversation:
    id: int
    account_id: int
    participant_ids: tuple[int, ...]  # the accounts in it other than its owner
    unread: bool
    last_status_id: int | None  # its newest post the owner may see; None: none left


def _participants_key(account_ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in sorted(set(account_ids)))


def _listing(account_id: int) -> Select:
    """The account's conversations, each with the newest of its posts the account may
    see (the account's own included; muted authors' left out, as on the timelines)."""
    last = (
        select(func.max(conversation_statuses.c.status_id))
        .join(statuses, statuses.c.id == conversation_statuses.c.status_id)
        .where(
            conversation_statuses.c.conversation_id == account_conversations.c.id,
            visible_to(account_id),
            not_muted(account_id, time.time()),
        )
        .correlate(account_conversations)
        .scalar_subquery()
    )
    return select(
        account_conversations.c.id,
        account_conversations.c.account_id,
        account_conversations.c.participant_ids,
        account_conversations.c.unread,
        last.label("last_status_id"),
    ).where(account_conversations.c.account_id == account_id)


def _record(row: dict) -> Conversation:
    ids = tuple(int(i) for i in str(row["participant_ids"]).split(",") if i)
    return Conversation(
        row["id"], row["account_id"], ids, bool(row["unread"]), row["last_status_id"]
    )


class ConversationQueries(Queries):
    async def conversation_add_status(
        self,
        account_id: int,
        root_id: int,
        participant_ids: Sequence[int],
        status_id: int,
        unread: bool,
    ) -> int:
        """File a post in the account's conversation of this thread with these others
        (made if new); unread says whether it is now unread. Returns the conversation's id."""
        key = {
            "account_id": account_id,
            "root_id": root_id,
            "participant_ids": _participants_key(participant_ids),
        }
        async with self.db.atomic():
            await self.db.write(
                dialect.insert_ignore(self.db.dialect, account_conversations).values(**key)
            )
            conversation_id = await self.db.scalar(
                select(account_conversations.c.id).where(
                    *(account_conversations.c[name] == value for name, value in key.items())
                )
            )
            await self.db.write(
                dialect.insert_ignore(self.db.dialect, conversation_statuses).values(
                    conversation_id=conversation_id, status_id=status_id
                )
            )
            await self.db.write(
                update(account_conversations)
                .where(account_conversations.c.id == conversation_id)
                .values(unread=int(unread))
            )
        return int(conversation_id)

    async def conversation_root_among(self, status_ids: Sequence[int]) -> int | None:
        """The thread root a conversation already gave one of these posts, if any."""
        if not status_ids:
            return None
        return await self.db.scalar(
            select(account_conversations.c.root_id)
            .join(
                conversation_statuses,
                conversation_statuses.c.conversation_id == account_conversations.c.id,
            )
            .where(conversation_statuses.c.status_id.in_(list(status_ids)))
            .limit(1)
        )

    async def conversation_page(self, account_id: int, page: Page) -> list[Conversation]:
        """The account's conversations with a post it may see, newest last post first;
        pages go by the last post's id, as on Mastodon."""
        listed = _listing(account_id).subquery()
        last = listed.c.last_status_id
        statement = select(listed).where(last.is_not(None))
        if page.max_id is not None:
            statement = statement.where(last < page.max_id)
        if page.since_id is not None:
            statement = statement.where(last > page.since_id)
        if page.min_id is not None:
            statement = statement.where(last > page.min_id)
        order = last.asc() if page.min_id is not None else last.desc()
        rows = await self.db.all(statement.order_by(order).limit(page.limit))
        return newest_first([_record(row) for row in rows], page)

    async def conversation_of(self, account_id: int, conversation_id: int) -> Conversation | None:
        """One of the account's conversations (last_status_id None if it may see none
        of its posts); None if it has no such conversation."""
        statement = _listing(account_id).where(account_conversations.c.id == conversation_id)
        row = await self.db.one(statement)
        return _record(row) if row is not None else None

    async def conversation_owner(self, conversation_id: int) -> int | None:
        return await self.db.scalar(
            select(account_conversations.c.account_id).where(
                account_conversations.c.id == conversation_id
            )
        )

    async def conversation_mark_read(self, account_id: int, conversation_id: int) -> bool:
        result = await self.db.write(
            update(account_conversations)
            .where(
                account_conversations.c.id == conversation_id,
                account_conversations.c.account_id == account_id,
            )
            .values(unread=0)
        )
        return bool(result.rowcount)

    async def conversation_delete(self, account_id: int, conversation_id: int) -> bool:
        """Remove the conversation for its owner only (its posts stay)."""
        result = await self.db.write(
            delete(account_conversations).where(
                account_conversations.c.id == conversation_id,
                account_conversations.c.account_id == account_id,
            )
        )
        return bool(result.rowcount)
