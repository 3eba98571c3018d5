"""Mastodon's CustomEmoji entities, for the `emojis` of statuses and accounts: the emoji
of the author's server whose :shortcode: the text uses, read in one go per page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fedchirp.services import emojis
from fedchirp.services.context import Context
from fedchirp.store.models import CustomEmoji

Key = tuple[str, str]  # (shortcode, domain)


def emoji_entity(ctx: Context, emoji: CustomEmoji) -> dict[str, Any]:
    return {
        "shortcode": emoji.shortcode,
        "url": emojis.image_url(ctx.media_storage, emoji),
        "static_url": emojis.static_url(ctx.media_storage, emoji),
        "visible_in_picker": emoji.visible_in_picker,
        "category": emoji.category,
    }


def keys(domain: str, *texts: str) -> set[Key]:
    return {(code, domain) for code in emojis.used_in(*texts)}


class EmojiLookup:
    """The emoji a response names, each asked of the store once."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._asked: set[Key] = set()
        self._found: dict[Key, dict[str, Any]] = {}

    async def load(self, wanted: Iterable[Key]) -> None:
        missing = set(wanted) - self._asked
        if not missing:
            return
        self._asked |= missing
        for emoji in await self.ctx.store.emojis_named(missing):
            self._found[(emoji.shortcode, emoji.domain)] = emoji_entity(self.ctx, emoji)

    async def entities(self, domain: str, *texts: str) -> list[dict[str, Any]]:
        wanted = sorted(keys(domain, *texts))
        await self.load(wanted)
        return [self._found[key] for key in wanted if key in self._found]
