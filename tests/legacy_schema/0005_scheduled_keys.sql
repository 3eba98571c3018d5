-- SQLite reuses the largest rowid after a delete, so "scheduled:<id>" could name two
-- different scheduled posts over time. Each entry gets its own idempotency key.
ALTER TABLE scheduled_statuses ADD COLUMN idempotency_key TEXT;
UPDATE scheduled_statuses SET idempotency_key = 'scheduled:' || id || ':' || created_at;
