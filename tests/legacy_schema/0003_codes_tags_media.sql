-- OAuth authorization codes, hashtags of posts, and media attachments.

CREATE TABLE oauth_codes (
    code_hash       TEXT PRIMARY KEY,
    app_id          INTEGER NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scopes          TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT,          -- PKCE (S256), when the client sent one
    expires_at      REAL NOT NULL
);

CREATE TABLE status_tags (
    status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,      -- lowercase, without '#'
    PRIMARY KEY (status_id, tag)
);
CREATE INDEX status_tags_tag ON status_tags (tag, status_id);

-- Local uploads have files under data_dir/media; remote attachments only a URL.
CREATE TABLE media_attachments (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id       INTEGER REFERENCES statuses (id) ON DELETE CASCADE,
    type            TEXT NOT NULL,          -- image | unknown
    mime_type       TEXT NOT NULL,
    file_name       TEXT,                   -- local: stored original (re-encoded)
    preview_name    TEXT,                   -- local: small preview
    remote_url      TEXT,                   -- remote: where the file lives
    width           INTEGER,
    height          INTEGER,
    preview_width   INTEGER,
    preview_height  INTEGER,
    size            INTEGER,
    description     TEXT NOT NULL DEFAULT '',
    blurhash        TEXT,
    focus_x         REAL NOT NULL DEFAULT 0,
    focus_y         REAL NOT NULL DEFAULT 0,
    position        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL
);
CREATE INDEX media_attachments_status ON media_attachments (status_id, position);
