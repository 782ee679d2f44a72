-- Erasing personal data (issue 17): the logged rows stay append-only, except that their personal fields may be
-- replaced by a pseudonym (`erased:` and the value's personal hash, docs/audit-format.md §1.3), which gives the
-- same leaf, and the free texts no leaf holds (a mail server's reply, a consent change's reason, a client's
-- address) may be emptied. Nothing else may change; `outreach audit verify` guards against whoever drops this.
DROP TRIGGER send_log_no_update;
CREATE TRIGGER send_log_no_update BEFORE UPDATE ON send_log
WHEN NOT (
    NEW.recipient LIKE 'erased:%' AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.delivery_id = OLD.delivery_id
    AND NEW.attempt = OLD.attempt AND NEW.run_id = OLD.run_id AND NEW.campaign_id = OLD.campaign_id
    AND NEW.theme_slug = OLD.theme_slug AND NEW.duty = OLD.duty AND NEW.channel = OLD.channel
    AND NEW.message_id = OLD.message_id AND NEW.template = OLD.template
    AND NEW.content_sha256 = OLD.content_sha256 AND NEW.smtp_code IS OLD.smtp_code AND NEW.smtp_reply = ''
    AND NEW.sender = OLD.sender AND NEW.outcome = OLD.outcome
)
BEGIN
    SELECT RAISE(ABORT, 'the send log is append-only');
END;

DROP TRIGGER member_events_no_update;
CREATE TRIGGER member_events_no_update BEFORE UPDATE ON member_events
WHEN NOT (
    NEW.id = OLD.id AND NEW.member_id = OLD.member_id AND NEW.theme_slug IS OLD.theme_slug
    AND NEW.event = OLD.event AND NEW.source = OLD.source AND NEW.reason = '' AND NEW.at = OLD.at
)
BEGIN
    SELECT RAISE(ABORT, 'the consent history is append-only');
END;

DROP TRIGGER actions_no_update;
CREATE TRIGGER actions_no_update BEFORE UPDATE ON actions
WHEN NOT (
    NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor_kind = OLD.actor_kind AND NEW.action = OLD.action
    AND (NEW.actor = OLD.actor OR NEW.actor LIKE 'erased:%')
    AND (NEW.target = OLD.target OR NEW.target LIKE 'erased:%')
    AND (NEW.address = OLD.address OR NEW.address = '')
    AND (NEW.summary = OLD.summary OR NEW.summary LIKE '%erased:%')
)
BEGIN
    SELECT RAISE(ABORT, 'the staff-action log is append-only');
END;
