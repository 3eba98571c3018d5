"""The tables of machines and sessions: work queues, seen activities, failing hosts, OAuth,
web sign-ins and scheduled posts (store/schema.py has the social ones and re-exports these)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, Integer, Table, Text, UniqueConstraint, text

from fedchirp.store.columns import Id, Real, metadata, ref

# Activities received, by id, so a repeat delivery changes nothing.
inbox_seen = Table(
    "inbox_seen",
    metadata,
    Column("activity_uri", Text, primary_key=True),
    Column("type", Text, nullable=False),
    Column("actor_uri", Text, nullable=False),
    Column("received_at", Text, nullable=False),
)


# Remote hosts that deliveries are failing to, one row each from its first failure
# since it last answered until it answers again (Mastodon keeps the same in its delivery
# failure tracker and unavailable_domains). Deliveries to an unavailable host are not
# sent. Times are unix seconds; failure_days counts distinct UTC days with a failure.
host_failures = Table(
    "host_failures",
    metadata,
    Column("host", Text, primary_key=True),  # host[:port], as in the inbox URLs
    Column("failing_since", Real, nullable=False),
    Column("last_failure_at", Real, nullable=False),
    Column("failure_days", Integer, nullable=False, server_default="1"),
    Column("unavailable", Integer, nullable=False, server_default="0"),
)


# Background work: incoming activities to apply, deliveries (queue "deliver", one per
# inbox, its activity stored once in outbound_activities), fetches and refreshes. A job
# is queued, running under a lease (taken up again by another worker when the lease
# runs out), or dead after its last attempt; a finished job is deleted. (queue, key)
# drops a repeat at insert: an incoming activity's key is its id.
LIVE = text("state != 'dead'")
jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("queue", Text, nullable=False),
    Column("key", Text),
    Column("lane", Text),  # jobs of one lane run one at a time, oldest first
    Column("payload", Text, nullable=False),
    Column("state", Text, nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("run_at", Real, nullable=False),
    Column("lease_until", Real, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", Text, nullable=False),
    Column("finished_at", Text),
    CheckConstraint("state IN ('queued', 'running', 'dead')"),
    UniqueConstraint("queue", "key"),
    Index("jobs_due", "state", "run_at"),
    # Live jobs only: "first in its lane" skips dead ones, and an inbox that refuses
    # everything (or a host that stays unavailable) piles up dead deliveries in its lane.
    Index("jobs_lane", "lane", "id", sqlite_where=LIVE, postgresql_where=LIVE),
)


oauth_apps = Table(
    "oauth_apps",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", Text, nullable=False),
    Column("website", Text),
    Column("redirect_uris", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("client_id", Text, nullable=False, unique=True),
    Column("client_secret", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)


# Tokens and codes are stored as SHA-256 hashes.
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", Id, primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("app_id", Id, ref("oauth_apps.id")),
    Column("account_id", Id, ref("accounts.id")),
    Column("scopes", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
)


oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", Text, primary_key=True),
    Column("app_id", Id, ref("oauth_apps.id"), nullable=False),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("code_challenge", Text),  # PKCE (S256), when the client sent one
    Column("expires_at", Real, nullable=False),
)


web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Real, nullable=False),
)


scheduled_statuses = Table(
    "scheduled_statuses",
    metadata,
    Column("id", Id, primary_key=True),
    Column("account_id", Id, ref("accounts.id"), nullable=False),
    Column("scheduled_at", Text, nullable=False),  # ISO-8601 UTC; sorts as time
    Column("params", Text, nullable=False),  # JSON of create_status arguments
    Column("created_at", Text, nullable=False),
    Column("idempotency_key", Text),
    Index("scheduled_statuses_due", "scheduled_at"),
)
