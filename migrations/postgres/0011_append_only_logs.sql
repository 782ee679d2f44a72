-- The send log and members' consent history are append-only, as the staff-action log is (0003): a record an
-- auditor relies on is never changed or removed by the service. Erasing personal data on request (issue 17) will
-- be its own, narrower exception.
CREATE FUNCTION log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % is append-only', TG_ARGV[0];
END;
$$;
CREATE TRIGGER send_log_append_only BEFORE UPDATE OR DELETE ON send_log
    FOR EACH ROW EXECUTE FUNCTION log_append_only('send log');
CREATE TRIGGER member_events_append_only BEFORE UPDATE OR DELETE ON member_events
    FOR EACH ROW EXECUTE FUNCTION log_append_only('consent history');
