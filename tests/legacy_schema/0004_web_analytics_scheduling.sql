-- Web sign-in sessions, follower history for analytics, and scheduled posts.

CREATE TABLE web_sessions (
    token_hash  TEXT PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  REAL NOT NULL
);

-- +1 when someone starts following (accepted), -1 when they stop. Kept by
-- triggers, so no code path can forget to record it.
CREATE TABLE follower_events (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    delta        INTEGER NOT NULL CHECK (delta IN (-1, 1)),
    occurred_at  TEXT NOT NULL
);
CREATE INDEX follower_events_account ON follower_events (account_id, occurred_at);

CREATE TRIGGER follow_accepted_on_insert AFTER INSERT ON follows WHEN NEW.state = 'accepted'
BEGIN
    INSERT INTO follower_events (account_id, delta, occurred_at)
    VALUES (NEW.followee_id, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER follow_accepted_on_update AFTER UPDATE OF state ON follows
WHEN OLD.state = 'pending' AND NEW.state = 'accepted'
BEGIN
    INSERT INTO follower_events (account_id, delta, occurred_at)
    VALUES (NEW.followee_id, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER follow_ended AFTER DELETE ON follows WHEN OLD.state = 'accepted'
BEGIN
    INSERT INTO follower_events (account_id, delta, occurred_at)
    VALUES (OLD.followee_id, -1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TABLE scheduled_statuses (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at  TEXT NOT NULL,   -- ISO-8601 UTC; sorts as time
    params        TEXT NOT NULL,   -- JSON of create_status arguments
    created_at    TEXT NOT NULL
);
CREATE INDEX scheduled_statuses_due ON scheduled_statuses (scheduled_at);

-- Idempotency-Key of a post request (Mastodon clients send one; the scheduler
-- uses one too), so a retried request or a restart never posts twice.
CREATE TABLE status_idempotency (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    status_id   INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, key)
);
