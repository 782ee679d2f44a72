-- The staff-action log: one row per change made through a service, written in the change's own transaction.
-- Append-only: no code path updates or deletes a row, and the database refuses to.
CREATE TABLE actions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
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

CREATE FUNCTION actions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the staff-action log is append-only';
END;
$$;
CREATE TRIGGER actions_append_only BEFORE UPDATE OR DELETE ON actions
    FOR EACH ROW EXECUTE FUNCTION actions_append_only();
