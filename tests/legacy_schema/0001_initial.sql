-- FedChirp schema, version 1.
-- Times that people see are ISO-8601 UTC text; times that machines schedule on
-- (delivery queue) are REAL unix seconds.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every actor we know: local ones (domain = '') and remote ones.
CREATE TABLE accounts (
    id                INTEGER PRIMARY KEY,
    username          TEXT NOT NULL,
    domain            TEXT NOT NULL DEFAULT '',
    display_name      TEXT NOT NULL DEFAULT '',
    note              TEXT NOT NULL DEFAULT '',
    actor_type        TEXT NOT NULL DEFAULT 'Person',
    locked            INTEGER NOT NULL DEFAULT 0,
    uri               TEXT NOT NULL UNIQUE,
    url               TEXT NOT NULL DEFAULT '',
    inbox_url         TEXT NOT NULL,
    shared_inbox_url  TEXT,
    outbox_url        TEXT NOT NULL DEFAULT '',
    followers_url     TEXT NOT NULL DEFAULT '',
    following_url     TEXT NOT NULL DEFAULT '',
    public_key_id     TEXT NOT NULL,
    public_key_pem    TEXT NOT NULL,
    avatar_url        TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL,
    fetched_at        REAL,
    UNIQUE (username, domain)
);
CREATE UNIQUE INDEX accounts_public_key_id ON accounts (public_key_id);

-- Credentials and keys of local accounts.
CREATE TABLE local_users (
    account_id       INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    password_hash    TEXT NOT NULL,
    private_key_pem  TEXT NOT NULL,
    is_admin         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL
);

-- Posts and boosts. Ids are time-ordered (see store/ids.py), so ORDER BY id is
-- chronological and Mastodon-style max_id/since_id paging works on them.
CREATE TABLE statuses (
    id                      INTEGER PRIMARY KEY,
    uri                     TEXT NOT NULL UNIQUE,
    url                     TEXT NOT NULL DEFAULT '',
    account_id              INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    local                   INTEGER NOT NULL,
    content                 TEXT NOT NULL DEFAULT '',
    source_text             TEXT NOT NULL DEFAULT '',
    spoiler_text            TEXT NOT NULL DEFAULT '',
    sensitive               INTEGER NOT NULL DEFAULT 0,
    visibility              TEXT NOT NULL
        CHECK (visibility IN ('public', 'unlisted', 'private', 'direct', 'limited')),
    language                TEXT,
    in_reply_to_id          INTEGER REFERENCES statuses (id) ON DELETE SET NULL,
    in_reply_to_uri         TEXT,
    in_reply_to_account_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    reblog_of_id            INTEGER REFERENCES statuses (id) ON DELETE CASCADE,
    created_at              TEXT NOT NULL,
    edited_at               TEXT,
    UNIQUE (account_id, reblog_of_id)
);
CREATE INDEX statuses_account ON statuses (account_id, id);
CREATE INDEX statuses_public ON statuses (visibility, id);
CREATE INDEX statuses_reblog_of ON statuses (reblog_of_id);
CREATE INDEX statuses_reply_to ON statuses (in_reply_to_id);

-- Accounts a status is explicitly addressed to (mentions, direct recipients,
-- follower-group members). mentioned = 1 when the text names them.
CREATE TABLE status_recipients (
    status_id   INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    mentioned   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (status_id, account_id)
);
CREATE INDEX status_recipients_account ON status_recipients (account_id, status_id);

-- Ids of objects that were deleted, so a late Create or Update cannot revive them.
CREATE TABLE tombstones (
    uri         TEXT PRIMARY KEY,
    deleted_at  TEXT NOT NULL
);

-- follower -> followee, pending until accepted.
CREATE TABLE follows (
    id           INTEGER PRIMARY KEY,
    follower_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followee_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri          TEXT NOT NULL UNIQUE,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
    created_at   TEXT NOT NULL,
    UNIQUE (follower_id, followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, state);

CREATE TABLE favourites (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    uri         TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    UNIQUE (account_id, status_id)
);
CREATE INDEX favourites_status ON favourites (status_id);

CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type             TEXT NOT NULL,
    from_account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id        INTEGER REFERENCES statuses (id) ON DELETE CASCADE,
    created_at       TEXT NOT NULL
);
CREATE INDEX notifications_account ON notifications (account_id, id);

-- Activities received, by id, so a repeat delivery changes nothing.
CREATE TABLE inbox_seen (
    activity_uri  TEXT PRIMARY KEY,
    type          TEXT NOT NULL,
    actor_uri     TEXT NOT NULL,
    received_at   TEXT NOT NULL
);

-- The outbound queue: one row per (activity, remote inbox). Rows are leased
-- while being sent, so a crash mid-send only delays the retry.
CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    activity_uri     TEXT NOT NULL,
    activity_type    TEXT NOT NULL,
    inbox_url        TEXT NOT NULL,
    body             TEXT NOT NULL,
    signer_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id        INTEGER,
    state            TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL NOT NULL,
    lease_until      REAL NOT NULL DEFAULT 0,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    finished_at      TEXT,
    UNIQUE (activity_uri, inbox_url)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);

-- Client API: registered apps and issued tokens (tokens stored as SHA-256).
CREATE TABLE oauth_apps (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    website        TEXT,
    redirect_uris  TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    client_id      TEXT NOT NULL UNIQUE,
    client_secret  TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE oauth_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    app_id      INTEGER REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id  INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    scopes      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
