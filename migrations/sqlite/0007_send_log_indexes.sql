-- The audit pages read the send log and the staff-action log a page at a time in id order, filtered by one
-- column or more. An index that leads with the filtered column and ends with id lets such a page (WHERE col = ?
-- AND id > ? ORDER BY id LIMIT n) read just its rows, however long the log. Outcomes and channels have few
-- values, so these indexes matter for the rare ones (failed, skipped, a handout channel).
CREATE INDEX send_log_by_campaign_id ON send_log (campaign_id, id);
CREATE INDEX send_log_by_theme_id ON send_log (theme_slug, id);
CREATE INDEX send_log_by_channel_id ON send_log (channel, id);
CREATE INDEX send_log_by_outcome_id ON send_log (outcome, id);
-- The recipient filter compares lower case (the member page, /audit/log?recipient=).
CREATE INDEX send_log_by_recipient_id ON send_log (LOWER(recipient), id);
-- The staff-action log's filters, and a member's page, which reads the actions on their address.
CREATE INDEX actions_by_actor_id ON actions (actor, id);
CREATE INDEX actions_by_action_id ON actions (action, id);
CREATE INDEX actions_by_target_id ON actions (target, id);
