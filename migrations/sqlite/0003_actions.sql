-- The staff-action log: one row per change made through a service, written in the change's own transaction.
-- Append-only: no code path updates or deletes a row, and the database refuses to.
CREATE TABLE actions (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor_kind TEXT   NOT NULL,
    actor      TEXT   NOT NULL,
    -- The client's address for web requests; empty at the command line.
    address    TEXT   NOT NULL DEFAULT '',
    action     TEXT   NOT NULL,
    target     TEXT   NOT NULL,
    -- What changed, as canonical JSON (sorted keys, no spaces).
    summary    TEXT   NOT NULL
);
CREATE INDEX actions_by_at ON actions (at);
CREATE INDEX actions_by_actor ON actions (actor, at);

CREATE TRIGGER actions_no_update BEFORE UPDATE ON actions
BEGIN
    SELECT RAISE(ABORT, 'the staff-action log is append-only');
END;
CREATE TRIGGER actions_no_delete BEFORE DELETE ON actions
BEGIN
    SELECT RAISE(ABORT, 'the staff-action log is append-only');
END;
