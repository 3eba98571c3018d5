-- Follower groups ("circles"): named subsets of an account's followers that a
-- post can be addressed to.

CREATE TABLE circles (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (account_id, title)
);

CREATE TABLE circle_members (
    circle_id   INTEGER NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (circle_id, account_id)
);
CREATE INDEX circle_members_account ON circle_members (account_id);

-- The circle a limited post went to (NULL once the circle is deleted).
ALTER TABLE statuses ADD COLUMN circle_id INTEGER REFERENCES circles (id) ON DELETE SET NULL;
CREATE INDEX statuses_circle ON statuses (circle_id);

-- Members must be followers: when a follow ends, so do the follower's memberships
-- in the followee's circles.
CREATE TRIGGER follow_end_leaves_circles AFTER DELETE ON follows
BEGIN
    DELETE FROM circle_members
    WHERE account_id = OLD.follower_id
      AND circle_id IN (SELECT id FROM circles WHERE account_id = OLD.followee_id);
END;

-- Leaving a circle ends access to its posts (unless the post also mentions them):
-- recipients are the live audience that timelines and fetches are checked against.
CREATE TRIGGER circle_leave_drops_access AFTER DELETE ON circle_members
BEGIN
    DELETE FROM status_recipients
    WHERE account_id = OLD.account_id AND mentioned = 0
      AND status_id IN (SELECT id FROM statuses WHERE circle_id = OLD.circle_id);
END;
