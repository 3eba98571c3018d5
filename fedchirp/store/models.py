"""Rows as typed records. Field names match the columns of schema version 1+."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fedchirp.store.cards import PreviewCard
    from fedchirp.store.polls import Poll  # its record lives with its queries

VISIBILITIES = ("public", "unlisted", "private", "direct", "limited")
# Visibilities that any follower of the author may see.
FOLLOWER_VISIBLE = ("public", "unlisted", "private")
# Visibilities that anyone may see, and that profiles and the outbox list.
PUBLICLY_LISTED = ("public", "unlisted")


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    domain: str  # '' for local accounts
    display_name: str
    note: str
    actor_type: str
    locked: bool
    uri: str
    url: str
    inbox_url: str
    shared_inbox_url: str | None
    outbox_url: str
    followers_url: str
    following_url: str
    public_key_id: str
    public_key_pem: str
    avatar_url: str
    created_at: str
    fetched_at: float | None
    header_url: str = ""
    fields: str = "[]"  # JSON: [{"name", "value" (HTML), "verified_at"}]
    discoverable: bool = True
    suspended_at: str | None = None  # by an admin of this instance
    silenced_at: str | None = None

    @property
    def is_local(self) -> bool:
        return self.domain == ""

    @property
    def delivery_inbox(self) -> str:
        """Where to deliver activities for this account: its server's shared inbox if any."""
        return self.shared_inbox_url or self.inbox_url

    def acct(self) -> str:
        """Mastodon's acct: 'user' for local accounts, 'user@domain' for remote ones."""
        return self.username if self.is_local else f"{self.username}@{self.domain}"


@dataclass(frozen=True)
class LocalUser:
    account_id: int
    password_hash: str
    private_key_pem: str
    is_admin: bool
    created_at: str
    disabled: bool = False
    note_source: str = ""  # the bio as typed; note is its HTML
    avatar_file: str | None = None
    header_file: str | None = None
    approved: bool = True
    email: str | None = None
    sign_up_reason: str = ""
    invite_id: int | None = None


@dataclass(frozen=True)
class Status:
    id: int
    uri: str
    url: str
    account_id: int
    local: bool
    content: str
    source_text: str
    spoiler_text: str
    sensitive: bool
    visibility: str
    language: str | None
    in_reply_to_id: int | None
    in_reply_to_uri: str | None
    in_reply_to_account_id: int | None
    reblog_of_id: int | None
    created_at: str
    edited_at: str | None
    circle_id: int | None = None


@dataclass(frozen=True)
class Circle:
    id: int
    account_id: int
    title: str
    created_at: str


@dataclass(frozen=True)
class UserList:
    """A local user's list of followed accounts (Mastodon's List)."""

    id: int
    account_id: int
    title: str
    replies_policy: str  # followed, list or none: which replies the list's timeline shows
    exclusive: bool  # members' posts stay out of the owner's home timeline
    created_at: str


@dataclass(frozen=True)
class Follow:
    id: int
    follower_id: int
    followee_id: int
    uri: str
    state: str  # 'pending' | 'accepted'
    created_at: str


@dataclass(frozen=True)
class FollowedTag:
    id: int
    account_id: int
    tag: str
    created_at: str


@dataclass(frozen=True)
class Marker:
    account_id: int
    timeline: str  # 'home' or 'notifications'
    last_read_id: str
    version: int
    updated_at: str


@dataclass(frozen=True)
class Favourite:
    id: int
    account_id: int
    status_id: int
    uri: str
    created_at: str


@dataclass(frozen=True)
class Notification:
    id: int
    account_id: int
    type: str
    from_account_id: int
    status_id: int | None
    created_at: str
    group_key: str | None = None  # favourites, boosts, follows close in time share one
    filtered: bool = False  # held back by the recipient's notification policy


@dataclass(frozen=True)
class OutboundActivity:
    """An activity we send, stored once; its deliveries are "deliver" jobs."""

    id: int
    activity_uri: str
    activity_type: str
    body: str  # JSON, as sent
    signer_id: int
    status_id: int | None
    inboxes: str  # every inbox it was queued for, newline-separated
    recipients: int  # how many
    delivered: int
    failed: int
    created_at: str


@dataclass(frozen=True)
class OutboundDelivery:
    """One inbox of an outbound activity, as its job shows it: "queued" (its job waits or
    runs), "failed" (its job is dead) or "delivered" (its job finished and is gone)."""

    inbox_url: str
    state: str
    activity_type: str
    body: str
    job_id: int | None = None
    attempts: int = 0  # of the job, while there is one
    run_at: float = 0.0
    lease_until: float = 0.0
    last_error: str | None = None


@dataclass(frozen=True)
class OAuthApp:
    id: int
    name: str
    website: str | None
    redirect_uris: str
    scopes: str
    client_id: str
    client_secret: str
    created_at: str


@dataclass(frozen=True)
class OAuthToken:
    id: int
    token_hash: str
    app_id: int | None
    account_id: int | None
    scopes: str
    created_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class OAuthCode:
    code_hash: str
    app_id: int
    account_id: int
    scopes: str
    redirect_uri: str
    code_challenge: str | None
    expires_at: float


@dataclass(frozen=True)
class MediaAttachment:
    id: int
    account_id: int
    status_id: int | None
    type: str
    mime_type: str
    file_name: str | None
    preview_name: str | None
    remote_url: str | None
    width: int | None
    height: int | None
    preview_width: int | None
    preview_height: int | None
    size: int | None
    description: str
    blurhash: str | None
    focus_x: float
    focus_y: float
    position: int
    created_at: str


@dataclass(frozen=True)
class WebSession:
    token_hash: str
    account_id: int
    csrf_token: str
    created_at: str
    expires_at: float
    is_admin: bool = False  # read with the session: every page asks, for its Admin link


@dataclass(frozen=True)
class ScheduledStatus:
    id: int
    account_id: int
    scheduled_at: str
    params: str
    created_at: str
    idempotency_key: str


@dataclass(frozen=True)
class StatusFilters:
    """Narrowing of an account's posts, as the Mastodon API offers."""

    exclude_replies: bool = False
    exclude_reblogs: bool = False
    only_media: bool = False
    tagged: str | None = None


@dataclass(frozen=True)
class Page:
    """Mastodon-style id paging: newest first, bounded by max_id/since_id/min_id."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20


@dataclass(frozen=True)
class AccountStats:
    statuses_count: int = 0  # posts, not boosts
    followers_count: int = 0  # accepted follows only
    following_count: int = 0
    last_status_at: str | None = None


@dataclass(frozen=True)
class StatusStats:
    replies_count: int = 0
    reblogs_count: int = 0
    favourites_count: int = 0


@dataclass(frozen=True)
class PageDetails:
    """Everything a page of statuses shows besides the statuses, read in one trip."""

    authors: dict[int, Account]
    account_stats: dict[int, AccountStats]
    viewer_flags: dict[int, set[str]]  # favourited/reblogged/bookmarked, for a signed-in viewer
    tags: dict[int, list[str]]
    media: dict[int, list[MediaAttachment]]
    status_stats: dict[int, StatusStats]
    mentions: dict[int, list[Account]]
    polls: dict[int, Poll]
    poll_choices: dict[int, list[int]]  # the viewer's, by poll
    cards: dict[int, PreviewCard] = field(default_factory=dict)  # link previews, by status


@dataclass(frozen=True)
class Job:
    id: int
    queue: str
    key: str | None
    lane: str | None  # jobs of one lane run one at a time, oldest first
    payload: str  # JSON
    state: str  # 'queued' | 'running' | 'dead'
    attempts: int  # started so far, this one included once claimed
    run_at: float
    lease_until: float
    last_error: str | None
    created_at: str
    finished_at: str | None


@dataclass(frozen=True)
class HostFailure:
    """A remote host deliveries are failing to (no row: it answers, or was never tried)."""

    host: str  # host[:port] of its inboxes
    failing_since: float  # the first failure since it last answered (unix seconds)
    last_failure_at: float
    failure_days: int  # distinct UTC days with a failure since then
    unavailable: bool  # deliveries to it are dropped until it is heard from again


@dataclass(frozen=True)
class Report:
    """A report to this instance's admins (by a local user, or a Flag from elsewhere)."""

    id: int
    account_id: int  # who reported: a local user, or the remote actor that sent the Flag
    target_account_id: int
    status_ids: str  # JSON list of ids
    rule_ids: str  # JSON list of ids
    comment: str
    category: str
    forwarded: bool
    uri: str | None
    created_at: str
    updated_at: str
    action_taken_at: str | None
    action_taken_by_id: int | None
    assigned_account_id: int | None


@dataclass(frozen=True)
class StatusEdit:
    """One version of an edited post (history shows them oldest first)."""

    id: int
    status_id: int
    content: str
    spoiler_text: str
    sensitive: bool
    created_at: str


@dataclass(frozen=True)
class CustomEmoji:
    id: int
    shortcode: str
    domain: str  # '' for ours
    image_file: str | None  # ours: the stored image
    image_url: str  # theirs: the image on their server
    static_url: str
    visible_in_picker: bool
    category: str | None
    uri: str
    updated_at: str
