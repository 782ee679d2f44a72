-- Erasing personal data (issue 17): the logged rows stay append-only, except that their personal fields may be
-- replaced by a pseudonym (`erased:` and the value's personal hash, docs/audit-format.md §1.3), which gives the
-- same leaf, and the free texts no leaf holds (a mail server's reply, a consent change's reason, a client's
-- address) may be emptied. Nothing else may change; `outreach audit verify` guards against whoever drops this.
CREATE FUNCTION send_log_erasure_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.recipient LIKE 'erased:%' AND NEW.smtp_reply = ''
        AND (NEW.id, NEW.at, NEW.delivery_id, NEW.attempt, NEW.run_id, NEW.campaign_id, NEW.theme_slug, NEW.duty,
             NEW.channel, NEW.message_id, NEW.template, NEW.content_sha256, NEW.sender, NEW.outcome)
          = (OLD.id, OLD.at, OLD.delivery_id, OLD.attempt, OLD.run_id, OLD.campaign_id, OLD.theme_slug, OLD.duty,
             OLD.channel, OLD.message_id, OLD.template, OLD.content_sha256, OLD.sender, OLD.outcome)
        AND NEW.smtp_code IS NOT DISTINCT FROM OLD.smtp_code THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the send log is append-only';
END;
$$;
DROP TRIGGER send_log_append_only ON send_log;
CREATE TRIGGER send_log_append_only BEFORE UPDATE OR DELETE ON send_log
    FOR EACH ROW EXECUTE FUNCTION send_log_erasure_only();

CREATE FUNCTION member_events_erasure_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.reason = ''
        AND (NEW.id, NEW.member_id, NEW.event, NEW.source, NEW.at) = (OLD.id, OLD.member_id, OLD.event, OLD.source, OLD.at)
        AND NEW.theme_slug IS NOT DISTINCT FROM OLD.theme_slug THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the consent history is append-only';
END;
$$;
DROP TRIGGER member_events_append_only ON member_events;
CREATE TRIGGER member_events_append_only BEFORE UPDATE OR DELETE ON member_events
    FOR EACH ROW EXECUTE FUNCTION member_events_erasure_only();

CREATE FUNCTION actions_erasure_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.id, NEW.at, NEW.actor_kind, NEW.action) = (OLD.id, OLD.at, OLD.actor_kind, OLD.action)
        AND (NEW.actor = OLD.actor OR NEW.actor LIKE 'erased:%')
        AND (NEW.target = OLD.target OR NEW.target LIKE 'erased:%')
        AND (NEW.address = OLD.address OR NEW.address = '')
        AND (NEW.summary = OLD.summary OR NEW.summary LIKE '%erased:%') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the staff-action log is append-only';
END;
$$;
DROP TRIGGER actions_append_only ON actions;
CREATE TRIGGER actions_append_only BEFORE UPDATE OR DELETE ON actions
    FOR EACH ROW EXECUTE FUNCTION actions_erasure_only();
