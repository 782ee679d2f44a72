-- The send log and members' consent history are append-only, as the staff-action log is (0003): a record an
-- auditor relies on is never changed or removed by the service. Erasing personal data on request (issue 17) will
-- be its own, narrower exception.
CREATE TRIGGER send_log_no_update BEFORE UPDATE ON send_log
BEGIN
    SELECT RAISE(ABORT, 'the send log is append-only');
END;
CREATE TRIGGER send_log_no_delete BEFORE DELETE ON send_log
BEGIN
    SELECT RAISE(ABORT, 'the send log is append-only');
END;
CREATE TRIGGER member_events_no_update BEFORE UPDATE ON member_events
BEGIN
    SELECT RAISE(ABORT, 'the consent history is append-only');
END;
CREATE TRIGGER member_events_no_delete BEFORE DELETE ON member_events
BEGIN
    SELECT RAISE(ABORT, 'the consent history is append-only');
END;
