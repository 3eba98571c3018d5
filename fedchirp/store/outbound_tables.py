"""Outbound activities: each stored once, however many inboxes it goes to.

Its deliveries are jobs (queue "deliver", store/jobs.py): one per inbox, in the inbox's
lane, keyed "<activity id>:<inbox>", with the activity's id as payload. `inboxes` lists
every inbox it was ever queued for (newline-separated, sorted): a repeat is never queued
again, and a Delete goes wherever the post went. `delivered` and `failed` count the
finished deliveries (of `recipients`) (finished jobs are deleted), for the author's analytics.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, Table, Text

from fedchirp.store.columns import Id, metadata, ref

outbound_activities = Table(
    "outbound_activities",
    metadata,
    Column("id", Id, primary_key=True),
    Column("activity_uri", Text, nullable=False, unique=True),
    Column("activity_type", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("signer_id", Id, ref("accounts.id"), nullable=False),
    Column("status_id", Id),
    Column("inboxes", Text, nullable=False),
    Column("recipients", Integer, nullable=False),
    Column("delivered", Integer, nullable=False, server_default="0"),
    Column("failed", Integer, nullable=False, server_default="0"),
    Column("created_at", Text, nullable=False),
    Index("outbound_activities_signer", "signer_id", "status_id"),
)
