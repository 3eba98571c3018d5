"""Polls: the rules for making one and voting in one, here and across servers.

A local poll's tallies are counted from its votes (ours and remote ones) after
each vote; a remote poll's are what its server last said in a Question, plus our
own users' votes counted in as they are cast (as Mastodon shows them). The poll's
author's server is the only one that counts: remote votes are recorded on our
polls only, and our votes on remote polls are sent to their authors.

Result updates go out as Update(Question) from a job (poll_jobs.py), at most one
per poll every UPDATE_EVERY_SECONDS however many votes arrive; another job closes
the poll when it ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fedchirp.clock import parse_iso, to_iso, utcnow
from fedchirp.federation import documents
from fedchirp.federation.questions import RemotePoll, question_fields, vote_note
from fedchirp.federation.vocab import Note
from fedchirp.services import audience, streaming
from fedchirp.services.context import Context
from fedchirp.services.errors import Invalid, NotFound
from fedchirp.store.models import Account, Status
from fedchirp.store.polls import Poll

MAX_OPTIONS = 4
MIN_OPTIONS = 2
MAX_OPTION_CHARS = 50
MIN_EXPIRATION = 300  # seconds, as Mastodon
MAX_EXPIRATION = 2629746  # a month
CLOSE_QUEUE = "polls.close"
UPDATE_QUEUE = "polls.update"
UPDATE_EVERY_SECONDS = 2.0


def limits() -> dict[str, int]:
    """configuration.polls of the instance documents."""
    return {
        "max_options": MAX_OPTIONS,
        "max_characters_per_option": MAX_OPTION_CHARS,
        "min_expiration": MIN_EXPIRATION,
        "max_expiration": MAX_EXPIRATION,
    }


@dataclass(frozen=True)
class PollDraft:
    options: tuple[str, ...]
    expires_in: int
    multiple: bool
    hide_totals: bool


def check_poll(poll: dict[str, Any] | None, with_media: bool = False) -> PollDraft | None:
    """A poll as asked for ({options, expires_in, multiple, hide_totals}), checked."""
    if poll is None:
        return None
    if with_media:
        raise Invalid("a post cannot have both a poll and media")
    options = poll.get("options")
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise Invalid("poll options must be a list of texts")
    options = [o.strip() for o in options]
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise Invalid(f"a poll has {MIN_OPTIONS} to {MAX_OPTIONS} options")
    if any(not o or len(o) > MAX_OPTION_CHARS for o in options):
        raise Invalid(f"each poll option has 1 to {MAX_OPTION_CHARS} characters")
    if len(set(options)) != len(options):
        raise Invalid("poll options must differ from each other")
    try:
        expires_in = int(poll.get("expires_in"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid("poll expires_in must be a number of seconds") from None
    if not MIN_EXPIRATION <= expires_in <= MAX_EXPIRATION:
        raise Invalid(f"poll expires_in must be {MIN_EXPIRATION} to {MAX_EXPIRATION} seconds")
    return PollDraft(
        tuple(options), expires_in, bool(poll.get("multiple")), bool(poll.get("hide_totals"))
    )


def is_expired(poll: Poll, now: datetime | None = None) -> bool:
    if poll.closed_at:
        return True
    ends = parse_iso(poll.expires_at)
    return ends is not None and ends <= (now or utcnow())


def shows_totals(poll: Poll) -> bool:
    """Hidden totals are shown to nobody until the poll ends (as on Mastodon)."""
    return not poll.hide_totals or is_expired(poll)


async def attach(ctx: Context, status: Status, draft: PollDraft) -> None:
    """Give a new local post its poll, and queue the job that closes it (same unit)."""
    ends = utcnow() + timedelta(seconds=draft.expires_in)
    await ctx.store.insert_poll(
        status.id,
        options=draft.options,
        tallies=[0] * len(draft.options),
        multiple=int(draft.multiple),
        hide_totals=int(draft.hide_totals),
        expires_at=to_iso(ends),
        votes_count=0,
        voters_count=0,
    )
    await _queue_close(ctx, status.id, ends)


async def _queue_close(ctx: Context, status_id: int, ends: datetime) -> None:
    await ctx.jobs.enqueue(CLOSE_QUEUE, str(status_id), {"status_id": status_id},
                           run_at=ends.timestamp())  # fmt: skip


async def queue_update(ctx: Context, status_id: int) -> None:
    """Ask for an Update(Question) of a local poll: one per poll per time slot, sent
    at the slot's end, so it carries every vote of the slot."""
    slot = int(ctx.jobs.clock() // UPDATE_EVERY_SECONDS) + 1
    await ctx.jobs.enqueue(
        UPDATE_QUEUE, f"{status_id}@{slot}", {"status_id": status_id},
        run_at=slot * UPDATE_EVERY_SECONDS,
    )  # fmt: skip


async def question(ctx: Context, status: Status, note: dict[str, Any]) -> dict[str, Any]:
    """A local post's Note document, as a Question if the post has a poll."""
    poll = await ctx.store.get_poll(status.id)
    if poll is None:
        return note
    fields = question_fields(
        poll.options,
        poll.tallies if shows_totals(poll) else None,
        poll.multiple,
        poll.expires_at,
        poll.closed_at,
        poll.voters_count,
    )
    return {**note, **fields}


# -- voting ----------------------------------------------------------------------


async def poll_of(ctx: Context, status: Status) -> Poll:
    poll = await ctx.store.get_poll(status.id)
    if poll is None:
        raise NotFound("poll not found")
    return poll


async def vote(ctx: Context, voter: Account, status: Status, choices: Sequence[int]) -> Poll:
    """Cast a local account's vote (the post is one they may see)."""
    poll = await poll_of(ctx, status)
    chosen = sorted(set(choices))
    if not chosen:
        raise Invalid("choose at least one option")
    if any(not 0 <= c < len(poll.options) for c in chosen):
        raise Invalid(f"choices must be option numbers from 0 to {len(poll.options) - 1}")
    if len(chosen) > 1 and not poll.multiple:
        raise Invalid("this poll takes one choice only")
    if is_expired(poll):
        raise Invalid("the poll has ended")
    author = await ctx.store.get_account(status.account_id)
    assert author is not None
    async with ctx.store.atomic():
        poll = await ctx.store.lock_poll(status.id) or poll  # one vote of theirs at a time
        if (await ctx.store.own_choices([status.id], voter.id)).get(status.id):
            raise Invalid("you have already voted in this poll")
        for choice in chosen:
            uri = None if status.local else f"{voter.uri}#votes/{status.id}/{choice}"
            await ctx.store.insert_poll_vote(status.id, voter.id, choice, uri)
            if uri is not None:
                note = vote_note(uri, voter.uri, author.uri, status.uri, poll.options[choice])
                create = documents.activity(
                    "Create", f"{uri}/activity", voter.uri, note, to=[author.uri]
                )
                await ctx.delivery.enqueue(create, voter, [author.inbox_url])
        if status.local:
            await retally(ctx, status.id)
        else:
            await _count_in(ctx, poll, chosen)
    return await poll_of(ctx, status)


async def _count_in(ctx: Context, poll: Poll, chosen: list[int]) -> None:
    """Our own vote on a remote poll, added to the counts its server last sent."""
    tallies = [n + (1 if i in chosen else 0) for i, n in enumerate(poll.tallies)]
    voters = poll.voters_count + 1 if poll.voters_count is not None else None
    await ctx.store.update_poll(
        poll.status_id, tallies=tallies, votes_count=poll.votes_count + len(chosen),
        voters_count=voters,
    )  # fmt: skip


async def retally(ctx: Context, status_id: int) -> None:
    """Count a local poll's votes again and ask for its result update."""
    await ctx.store.retally_poll(status_id)
    await queue_update(ctx, status_id)


async def vote_target(ctx: Context, in_reply_to: str | None, name: str) -> Status | None:
    """The local poll a remote Note votes in (a name, in reply to our poll), or None."""
    if not name or in_reply_to is None or not ctx.urls.is_local(in_reply_to):
        return None
    status = await ctx.store.get_status_by_uri(in_reply_to)
    if status is None or not status.local or await ctx.store.get_poll(status.id) is None:
        return None
    return status


async def receive_vote(ctx: Context, voter: Account, status: Status, title: str, uri: str) -> str:
    """A remote account's vote for one option of our poll (in the inbox's unit)."""
    poll = await ctx.store.lock_poll(status.id)  # its votes one at a time
    if poll is None:
        return "vote in a poll that is gone, ignored"
    if not await audience.can_see(ctx, voter, status):
        return "vote in a poll not shown to its voter, ignored"
    if is_expired(poll):
        return "vote in an ended poll, ignored"
    if title not in poll.options:
        return "vote for no option of the poll, ignored"
    choice = poll.options.index(title)
    earlier = (await ctx.store.own_choices([status.id], voter.id)).get(status.id, [])
    if earlier and not poll.multiple and choice not in earlier:
        return "second vote in a single-choice poll, ignored"
    if not await ctx.store.insert_poll_vote(status.id, voter.id, choice, uri):
        return "vote counted already, ignored"
    await retally(ctx, status.id)
    return f"{voter.acct()} voted in {status.uri}"


# -- remote polls ------------------------------------------------------------------


def _remote_values(remote: RemotePoll) -> dict[str, Any]:
    return {
        "options": remote.options,
        "tallies": remote.tallies,
        "multiple": int(remote.multiple),
        "hide_totals": int(remote.hide_totals),
        "expires_at": to_iso(remote.expires_at) if remote.expires_at else None,
        "votes_count": sum(remote.tallies),
        "voters_count": remote.voters_count,
        "closed_at": to_iso(remote.closed_at) if remote.closed_at else None,
        "last_fetched": utcnow().timestamp(),
    }


async def store_remote(ctx: Context, status: Status, remote: RemotePoll) -> None:
    """The poll of a remote post just stored; its end tells our voters (a job)."""
    await ctx.store.insert_poll(status.id, **_remote_values(remote))
    if remote.expires_at is not None and remote.closed_at is None:
        await _queue_close(ctx, status.id, remote.expires_at)


async def update_remote(ctx: Context, status: Status, note: Note) -> bool:
    """New counts of a remote poll, from an Update(Question) by its author (in its
    unit). True when that is all the update says (it has no "updated": not an edit)."""
    assert note.poll is not None
    poll = await ctx.store.get_poll(status.id)
    if poll is None:
        await store_remote(ctx, status, note.poll)
    elif poll.options == note.poll.options and not (poll.closed_at and not note.poll.closed_at):
        # A closed poll stays closed: an update sent before the end may arrive after it.
        await ctx.store.update_poll(status.id, **_remote_values(note.poll))
    if note.updated is not None:
        return False
    await streaming.announce(ctx, "status.update", status.id)
    return True
