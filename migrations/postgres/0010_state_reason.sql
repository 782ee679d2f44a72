-- Why a campaign is paused, held or finished is a typed value (src/domain/campaign/reason.rs) kept as JSON, so
-- that each reader words it in its own language and nobody parses English to learn it. The reasons earlier
-- versions wrote as English text become their JSON; a text of another shape (a failure rate) is left as it is
-- and shown as stored.
UPDATE campaigns SET state_reason = '{"kind":"paused-by-staff"}' WHERE state_reason = 'paused by staff';
UPDATE campaigns SET state_reason = '{"kind":"cancelled-by-staff"}' WHERE state_reason = 'cancelled by staff';
UPDATE campaigns SET state_reason = '{"kind":"no-firing-left"}'
    WHERE state_reason = 'no firing time left inside the campaign''s bounds';
UPDATE campaigns SET state_reason = json_build_object('kind', 'server-refuses-sending', 'code', NULL::integer,
        'reply', trim(substr(state_reason, 63)))::text
    WHERE substr(state_reason, 1, 62) = 'paused: the mail server refuses the sending, not a recipient: ';
UPDATE campaigns SET state_reason = json_build_object('kind', 'does-not-render', 'error', substr(state_reason, 33))::text
    WHERE substr(state_reason, 1, 32) = 'held: the mail does not render: ';
