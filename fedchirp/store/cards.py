"""Link preview cards: one per linked URL, the card each post shows, and the links
public posts shared most (trending links)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, distinct, func, literal_column, select

from fedchirp.store import dialect
from fedchirp.store.card_tables import preview_cards, status_preview_cards
from fedchirp.store.db import Queries
from fedchirp.store.query import Prepared, Read, ids_param, record
from fedchirp.store.schema import accounts


@dataclass(frozen=True)
class PreviewCard:
    id: int
    url: str
    card_url: str
    type: str
    title: str
    description: str
    author_name: str
    author_url: str
    provider_name: str
    provider_url: str
    image_url: str
    image_description: str
    width: int
    height: int
    embed_url: str
    language: str | None
    published_at: str | None
    fetched_at: float


@dataclass(frozen=True)
class CardShare:
    """How much a card was shared: by many accounts, in so many posts."""

    card: PreviewCard
    accounts: int
    uses: int


# Read for every page of statuses (store/pages.py), prepared once.
_CARDS_OF = Prepared(
    select(status_preview_cards.c.status_id, preview_cards)
    .join(preview_cards, preview_cards.c.id == status_preview_cards.c.card_id)
    .where(status_preview_cards.c.status_id.in_(ids_param()))
)


def cards_read(status_ids: list[int]) -> Read[dict[int, PreviewCard]]:
    """The card each of these statuses shows, by status id."""
    return Read(_CARDS_OF, {"ids": status_ids}, _cards_by_status)


def _cards_by_status(rows: list[dict[str, Any]]) -> dict[int, PreviewCard]:
    return {row.pop("status_id"): _card(row) for row in rows}  # type: ignore[misc]


def _card(row: dict[str, Any] | None) -> PreviewCard | None:
    return record(PreviewCard, row)


def _shared_by_visible_accounts() -> Any:
    """Public shares by accounts that are neither suspended nor silenced."""
    return (
        select(
            status_preview_cards.c.card_id,
            func.count(distinct(status_preview_cards.c.account_id)).label("accounts"),
            func.count().label("uses"),
            func.max(status_preview_cards.c.created_at).label("latest"),
        )
        .join(accounts, accounts.c.id == status_preview_cards.c.account_id)
        .where(
            status_preview_cards.c.public == 1,
            accounts.c.suspended_at.is_(None),
            accounts.c.silenced_at.is_(None),
        )
    )


class PreviewCardQueries(Queries):
    async def preview_card_by_url(self, url: str) -> PreviewCard | None:
        return _card(await self.db.one(select(preview_cards).where(preview_cards.c.url == url)))

    async def preview_card_save(self, values: dict[str, Any]) -> PreviewCard:
        """Write the card of values["url"], new or refreshed; the card as stored."""
        async with self.db.atomic():
            await self.db.write(
                dialect.upsert(self.db.dialect, preview_cards, values, key=["url"], keep=[])
            )
            card = await self.preview_card_by_url(values["url"])
        assert card is not None
        return card

    async def preview_card_of_status(self, status_id: int) -> PreviewCard | None:
        return (await self.db.read(cards_read([status_id]))).get(status_id)

    async def preview_card_attach(
        self, status_id: int, card_id: int, account_id: int, public: bool, created_at: str
    ) -> None:
        """Make card_id the card the status shows (in place of any other)."""
        values = {
            "status_id": status_id,
            "card_id": card_id,
            "account_id": account_id,
            "public": int(public),
            "created_at": created_at,
        }
        await self.db.write(
            dialect.upsert(
                self.db.dialect, status_preview_cards, values, key=["status_id"], keep=[]
            )
        )

    async def preview_card_detach(self, status_id: int) -> None:
        await self.db.write(
            delete(status_preview_cards).where(status_preview_cards.c.status_id == status_id)
        )

    async def preview_cards_trending(self, since: str, limit: int, offset: int) -> list[CardShare]:
        """Cards of public posts made since then, most accounts sharing them first
        (then most posts, then the latest share); cards without a title are left out."""
        shares = (
            _shared_by_visible_accounts()
            .where(status_preview_cards.c.created_at >= since)
            .group_by(status_preview_cards.c.card_id)
            .subquery()
        )
        statement = (
            select(preview_cards, shares.c.accounts.label("shared_by"), shares.c.uses)
            .join(shares, shares.c.card_id == preview_cards.c.id)
            .where(preview_cards.c.title != "")
            .order_by(shares.c.accounts.desc(), shares.c.uses.desc(), shares.c.latest.desc())
            .limit(limit)
            .offset(offset)
        )
        found = []
        for row in await self.db.all(statement):
            shared_by, uses = row.pop("shared_by"), row.pop("uses")
            found.append(CardShare(_card(row), shared_by, uses))  # type: ignore[arg-type]
        return found

    async def preview_card_daily_shares(
        self, card_ids: list[int], since: str
    ) -> dict[tuple[int, str], tuple[int, int]]:
        """(accounts, uses) by (card id, day "YYYY-MM-DD") for public shares since then."""
        if not card_ids:
            return {}
        # Literal bounds: PostgreSQL matches the GROUP BY to the selected expression
        # only when no parameters differ between them.
        day = func.substr(
            status_preview_cards.c.created_at, literal_column("1"), literal_column("10")
        )
        statement = (
            _shared_by_visible_accounts()
            .add_columns(day.label("day"))
            .where(
                status_preview_cards.c.card_id.in_(card_ids),
                status_preview_cards.c.created_at >= since,
            )
            .group_by(status_preview_cards.c.card_id, day)
        )
        return {
            (row["card_id"], row["day"]): (row["accounts"], row["uses"])
            for row in await self.db.all(statement)
        }
