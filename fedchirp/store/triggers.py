"""Rules kept by triggers, so no code path can skip them, written once per dialect.

1. Members must be followers: when a follow ends, the follower leaves the
   followee's circles.
2. Leaving a circle ends access to its posts (unless the post also mentions
   them): recipients are the live audience that every read is checked against.
3. follower_events records +1/-1 as follows are accepted and end (analytics).
"""

from __future__ import annotations

from sqlalchemy import DDL, MetaData, event

SQLITE_TRIGGERS = (
    """CREATE TRIGGER follow_end_leaves_circles AFTER DELETE ON follows
BEGIN
    DELETE FROM circle_members
    WHERE account_id = OLD.follower_id
      AND circle_id IN (SELECT id FROM circles WHERE account_id = OLD.followee_id);
END""",
    """CREATE TRIGGER circle_leave_drops_access AFTER DELETE ON circle_members
BEGIN
    DELETE FROM status_recipients
    WHERE account_id = OLD.account_id AND mentioned = 0
      AND status_id IN (SELECT id FROM statuses WHERE circle_id = OLD.circle_id);
END""",
    """CREATE TRIGGER follow_accepted_on_insert AFTER INSERT ON follows
WHEN NEW.state = 'accepted'
BEGIN
    INSERT INTO follower_events (account_id, delta, occurred_at)
    VALUES (NEW.followee_id, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END""",
    """CREATE TRIGGER follow_accepted_on_update AFTER UPDATE OF state ON follows
WHEN OLD.state = 'pending' AND NEW.state = 'accepted'
BEGIN
    INSERT INTO follower_events (account_id, delta, occurred_at)
    VALUES (NEW.followee_id, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END""",
    """CREATE TRIGGER follow_ended AFTER DELETE ON follows WHEN OLD.state = 'accepted'
BEGIN
    INSERT INTO follower_events (account_id, delta, occurred_at)
    VALUES (OLD.followee_id, -1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END""",
)

_PG_NOW = "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

POSTGRESQL_TRIGGERS = (
    """CREATE FUNCTION follow_end_leaves_circles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM circle_members
    WHERE account_id = OLD.follower_id
      AND circle_id IN (SELECT id FROM circles WHERE account_id = OLD.followee_id);
    RETURN OLD;
END $$""",
    """CREATE TRIGGER follow_end_leaves_circles AFTER DELETE ON follows
FOR EACH ROW EXECUTE FUNCTION follow_end_leaves_circles()""",
    """CREATE FUNCTION circle_leave_drops_access() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM status_recipients
    WHERE account_id = OLD.account_id AND mentioned = 0
      AND status_id IN (SELECT id FROM statuses WHERE circle_id = OLD.circle_id);
    RETURN OLD;
END $$""",
    """CREATE TRIGGER circle_leave_drops_access AFTER DELETE ON circle_members
FOR EACH ROW EXECUTE FUNCTION circle_leave_drops_access()""",
    f"""CREATE FUNCTION follower_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state = 'accepted' THEN
            INSERT INTO follower_events (account_id, delta, occurred_at)
            VALUES (OLD.followee_id, -1, {_PG_NOW});
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.state = 'accepted' AND (TG_OP = 'INSERT' OR OLD.state = 'pending') THEN
        INSERT INTO follower_events (account_id, delta, occurred_at)
        VALUES (NEW.followee_id, 1, {_PG_NOW});
    END IF;
    RETURN NEW;
END $$""",
    """CREATE TRIGGER follower_event AFTER INSERT OR DELETE OR UPDATE OF state ON follows
FOR EACH ROW EXECUTE FUNCTION follower_event()""",
)


def install_triggers(metadata: MetaData) -> None:
    """Create the triggers with the tables of a new database (a SQLite file of the first
    release has them already). DDL formats its text with %, so a literal % is doubled."""
    for dialect, statements in (("sqlite", SQLITE_TRIGGERS), ("postgresql", POSTGRESQL_TRIGGERS)):
        for statement in statements:
            ddl = DDL(statement.replace("%", "%%")).execute_if(dialect=dialect)
            event.listen(metadata, "after_create", ddl)
