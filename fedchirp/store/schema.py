"""The schema as SQLAlchemy Core tables: one description for SQLite and PostgreSQL.

Times that people see are ISO-8601 UTC text; times that machines schedule on
(the delivery queue, sessions, codes) are unix seconds. Flags are 0/1 integers,
as in the first release's SQLite files, so a database upgraded in place and a
new one are the same.

A new database is made from these tables (create_all, then stamped at the head
revision); an existing one is brought here by the Alembic revisions in
store/migrations. The rules kept by triggers are in store/triggers.py.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from fedchirp.store.columns import Id, Real, metadata, ref
from fedchirp.store.triggers import install_triggers

settings = Table(
    "settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# Every actor we know: local ones (domain = '') and remote ones.
accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("username", Text, nullable=False),
    Column("domain", Text, nullable=False, server_default=""),
    Column("display_name", Text, nullable=False, server_default=""),
    Column("note", Text, nullable=False, server_default=""),
    Column("actor_type", Text, nullable=False, server_default="Person"),
    Column("locked", Integer, nullable=False, server_default="0"),
    Column("uri", Text, nullable=False, unique=True),
    Column("url", Text, nullable=False, server_default=""),
    Column("inbox_url", Text, nullable=False),
    Column("shared_inbox_url", Text),
    Column("outbox_url", Text, nullable=False, server_default=""),
    Column("followers_url", Text, nullable=False, server_default=""),
    Column("following_url", Text, nullable=False, server_default=""),
    Column("public_key_id", Text, nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("avatar_url", Text, nullable=False, server_default=""),
    Column("created_at", Text, nullable=False),
    Column("fetched_at", Real),
    Column("header_url", Text, nullable=False, server_default=""),
    Column("fields", Text, nullable=False, server_default="[]"),  # JSON, as Account.fields
    Column("discoverable", Integer, nullable=False, server_default="1"),
    Column("suspended_at", Text),  # by an admin of this instance
    Column("silenced_at", Text),  # limited: hidden from people who do not follow
    UniqueConstraint("username", "domain"),
    Index("accounts_public_key_id", "public_key_id", unique=True),
)

local_users = Table(
    "local_users",
    metadata,
    Column("account_id", Id, ref("accounts.id"), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("private_key_pem", Text, nullable=False),
    Column("is_admin", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
    Column("disabled", Integer, nullable=False, server_default="0"),  # by an admin
    Column("note_source", Text, nullable=False, server_default=""),  # the bio as typed
    Column("avatar_file", Text),  # our files behind avatar_url and header_url
    Column("header_file", Text),
    Column("approved", Integer, nullable=False, server_default="1"),
    Column("email", Text),
    Column("sign_up_reason", Text, nullable=False, server_default=""),
    Column("invite_id", Id, ref("invites.id", "SET NULL")),
)

# Counters that profiles and posts show, kept by the store in the unit that changes
# them (store/counters.py), so rendering a page counts nothing.
account_stats = Table(
    "account_stats",
    metadata,
    Column("account_id", Id, ref("accounts.id"), primary_key=True),
    Column("statuses_count", Integer, nullable=False, server_default="0"),  # posts, not boosts
    Column("followers_count", Integer, nullable=False, server_default="0"),
    Column("following_count", Integer, nullable=False, server_default="0"),
    Column("last_status_at", Text),
)

circles = Table(
    "circles",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("title", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("account_id", "title"),
)

# Posts and boosts. Ids are time-ordered (store/ids.py): ORDER BY id is chronological.
statuses = Table(
    "statuses",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=False),
    Column("uri", Text, nullable=False, unique=True),
    Column("url", Text, nullable=False, server_default=""),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("local", Integer, nullable=False),
    Column("content", Text, nullable=False, server_default=""),
    Column("source_text", Text, nullable=False, server_default=""),
    Column("spoiler_text", Text, nullable=False, server_default=""),
    Column("sensitive", Integer, nullable=False, server_default="0"),
    Column("visibility", Text, nullable=False),
    Column("language", Text),
    Column("in_reply_to_id", Id, ref("statuses.id", "SET NULL")),
    Column("in_reply_to_uri", Text),
    Column("in_reply_to_account_id", Id, ref("accounts.id", "SET NULL")),
    Column("reblog_of_id", Id, ref("statuses.id")),
    Column("created_at", Text, nullable=False),
    Column("edited_at", Text),
    Column("circle_id", Id, ref("circles.id", "SET NULL")),
    CheckConstraint("visibility IN ('public', 'unlisted', 'private', 'direct', 'limited')"),
    UniqueConstraint("account_id", "reblog_of_id"),
    Index("statuses_account", "account_id", "id"),
    Index("statuses_public", "visibility", "id"),
    Index("statuses_listing", "visibility", "local", "id"),
    Index("statuses_reblog_of", "reblog_of_id"),
    Index("statuses_reply_to", "in_reply_to_id"),
    Index("statuses_circle", "circle_id"),
)

status_stats = Table(
    "status_stats",
    metadata,
    Column("status_id", Id, ref("statuses.id"), primary_key=True),
    Column("replies_count", Integer, nullable=False, server_default="0"),
    Column("reblogs_count", Integer, nullable=False, server_default="0"),
    Column("favourites_count", Integer, nullable=False, server_default="0"),
)

# Accounts a status is explicitly addressed to (mentions, direct recipients,
# follower-group members). mentioned = 1 when the text names them.
status_recipients = Table(
    "status_recipients",
    metadata,
    Column("status_id", Id, ref("statuses.id"), nullable=False),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("mentioned", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("status_id", "account_id"),
    Index("status_recipients_account", "account_id", "status_id"),
)

# Each local account's home timeline, written when a post is made or arrives
# (fan-out on write), so reading a page is one index range, whatever the table size.
home_feed = Table(
    "home_feed",
    metadata,
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("status_id", Id, ref("statuses.id"), nullable=False),
    PrimaryKeyConstraint("account_id", "status_id"),
    Index("home_feed_status", "status_id"),
)

# Ids of objects that were deleted, so a late Create or Update cannot revive them.
tombstones = Table(
    "tombstones",
    metadata,
    Column("uri", Text, primary_key=True),
    Column("deleted_at", Text, nullable=False),
)

# follower -> followee, pending until accepted.
follows = Table(
    "follows",
    metadata,
    Column("id", Id, primary_key=True),
    Column("follower_id", Id, ref("accounts.id"), nullable=False),
    Column("followee_id", Id, ref("accounts.id"), nullable=False),
    Column("uri", Text, nullable=False, unique=True),
    Column("state", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    CheckConstraint("state IN ('pending', 'accepted')"),
    UniqueConstraint("follower_id", "followee_id"),
    Index("follows_followee", "followee_id", "state"),
)

favourites = Table(
    "favourites",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("status_id", Id, ref("statuses.id"), nullable=False),
    Column("uri", Text, nullable=False, unique=True),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("account_id", "status_id"),
    Index("favourites_status", "status_id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("type", Text, nullable=False),
    Column("from_account_id", Id, ref("accounts.id"), nullable=False),
    Column("status_id", Id, ref("statuses.id")),
    Column("created_at", Text, nullable=False),
    # Grouped notifications (Mastodon 4.3): favourites, boosts and follows that happen
    # close together share a key; filtered ones wait in notification requests.
    Column("group_key", Text),
    Column("filtered", Integer, nullable=False, server_default="0"),
    Index("notifications_account", "account_id", "id"),
    Index("notifications_status", "status_id"),
    Index("notifications_group", "account_id", "group_key"),
)


circle_members = Table(
    "circle_members",
    metadata,
    Column("circle_id", Id, ref("circles.id"), nullable=False),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    PrimaryKeyConstraint("circle_id", "account_id"),
    Index("circle_members_account", "account_id"),
)


status_tags = Table(
    "status_tags",
    metadata,
    Column("status_id", Id, ref("statuses.id"), nullable=False),
    Column("tag", Text, nullable=False),  # lowercase, without '#'
    PrimaryKeyConstraint("status_id", "tag"),
    Index("status_tags_tag", "tag", "status_id"),
)

# Local uploads have files under data_dir/media; remote attachments only a URL.
media_attachments = Table(
    "media_attachments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("status_id", Id, ref("statuses.id")),
    Column("type", Text, nullable=False),
    Column("mime_type", Text, nullable=False),
    Column("file_name", Text),
    Column("preview_name", Text),
    Column("remote_url", Text),
    Column("width", Integer),
    Column("height", Integer),
    Column("preview_width", Integer),
    Column("preview_height", Integer),
    Column("size", Integer),
    Column("description", Text, nullable=False, server_default=""),
    Column("blurhash", Text),
    Column("focus_x", Real, nullable=False, server_default="0"),
    Column("focus_y", Real, nullable=False, server_default="0"),
    Column("position", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
    Index("media_attachments_status", "status_id", "position"),
)


# +1 when someone starts following (accepted), -1 when they stop; kept by triggers.
follower_events = Table(
    "follower_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("delta", Integer, nullable=False),
    Column("occurred_at", Text, nullable=False),
    CheckConstraint("delta IN (-1, 1)"),
    Index("follower_events_account", "account_id", "occurred_at"),
)


from fedchirp.store.announcement_tables import (  # noqa: E402 - the same metadata
    announcement_dismissals,
    announcement_reactions,
    announcements,
    featured_tags,
)
from fedchirp.store.app_tables import (  # noqa: E402 - the same metadata
    bookmarks,
    followed_tags,
    markers,
)
from fedchirp.store.card_tables import (  # noqa: E402 - the same metadata
    preview_cards,
    status_preview_cards,
)
from fedchirp.store.conversation_tables import (  # noqa: E402 - the same metadata
    account_conversations,
    conversation_statuses,
)
from fedchirp.store.emoji_tables import custom_emojis  # noqa: E402 - the same metadata
from fedchirp.store.filter_tables import (  # noqa: E402 - the same metadata, filled here too
    filter_keywords,
    filter_statuses,
    filters,
)
from fedchirp.store.list_tables import list_accounts, lists  # noqa: E402 - the same metadata
from fedchirp.store.moderation_tables import (  # noqa: E402 - the same metadata, filled here too
    account_domain_blocks,
    blocks,
    domain_blocks,
    invites,
    mutes,
    rate_limits,
    reports,
    rules,
)
from fedchirp.store.notification_tables import (  # noqa: E402 - the same metadata
    notification_permissions,
    notification_policies,
    notification_requests,
)
from fedchirp.store.outbound_tables import outbound_activities  # noqa: E402 - the same metadata
from fedchirp.store.poll_tables import poll_votes, polls  # noqa: E402 - the same metadata
from fedchirp.store.post_extras_tables import (  # noqa: E402 - the same metadata
    status_edits,
    status_idempotency,
    status_pins,
)
from fedchirp.store.push_tables import web_push_subscriptions  # noqa: E402 - the same metadata
from fedchirp.store.suggestion_tables import suggestion_dismissals  # noqa: E402
from fedchirp.store.work_tables import (  # noqa: E402 - the same metadata, filled here too
    host_failures,
    inbox_seen,
    jobs,
    oauth_apps,
    oauth_codes,
    oauth_tokens,
    scheduled_statuses,
    web_sessions,
)

__all__ = [
    "account_conversations",
    "account_domain_blocks",
    "announcement_dismissals",
    "announcement_reactions",
    "announcements",
    "blocks",
    "bookmarks",
    "conversation_statuses",
    "custom_emojis",
    "domain_blocks",
    "featured_tags",
    "filter_keywords",
    "filter_statuses",
    "filters",
    "followed_tags",
    "host_failures",
    "inbox_seen",
    "invites",
    "jobs",
    "list_accounts",
    "lists",
    "markers",
    "metadata",
    "mutes",
    "notification_permissions",
    "notification_policies",
    "notification_requests",
    "oauth_apps",
    "oauth_codes",
    "oauth_tokens",
    "outbound_activities",
    "poll_votes",
    "polls",
    "preview_cards",
    "rate_limits",
    "reports",
    "rules",
    "scheduled_statuses",
    "status_edits",
    "status_idempotency",
    "status_pins",
    "status_preview_cards",
    "suggestion_dismissals",
    "web_push_subscriptions",
    "web_sessions",
]

# The rules kept by triggers, created with the tables of a new database.
install_triggers(metadata)
