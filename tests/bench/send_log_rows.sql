-- 1,000,000 send-log rows for tests/bench/send_log.sh, over the campaigns the script created (ids 1-5):
-- 11 runs, 1,000,000 deliveries to 100,000 addresses, one attempt each, spread over FY2020, outcomes
-- 95% sent, 3% deferred, 1% failed, 1% skipped. :series(x, from, to) is replaced by the script with the
-- backend's row generator of a column x, :overriding with PostgreSQL's OVERRIDING SYSTEM VALUE (empty for SQLite).
INSERT INTO runs (id, campaign_id, scheduled_for, trigger, status, audience, created_at, finished_at) :overriding
SELECT r, 1 + r % 5, 1585699200000 + r * 2592000000, 'schedule', 'done', 100000,
       1585699200000 + r * 2592000000, 1585699200000 + r * 2592000000 + 3600000
FROM :series(r, 0, 10);

INSERT INTO deliveries (id, run_id, recipient_kind, recipient_id, email, email_norm, status, attempts,
                        next_attempt_at, updated_at) :overriding
SELECT i, i / 100000, 'member', NULL, 'm' || (i % 100000) || '@example.co.jp', 'm' || (i % 100000) || '@example.co.jp',
       'sent', 1, 1585699200000 + (i / 100000) * 2592000000, 1585699200000 + (i / 100000) * 2592000000
FROM :series(i, 1, 1000000);

INSERT INTO send_log (id, at, delivery_id, attempt, run_id, campaign_id, theme_slug, duty, channel, recipient,
                      message_id, template, content_sha256, smtp_code, smtp_reply, sender, outcome) :overriding
SELECT i, 1585699200000 + (i / 100000) * 2592000000 + (i % 100000) * 20, i, 1, i / 100000, 1 + (i / 100000) % 5,
       c.theme_slug, c.duty, c.channel, 'm' || (i % 100000) || '@example.co.jp',
       '<outreach.' || (i / 100000) || '.' || i || '.bench@example.org>', c.template,
       'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
       CASE WHEN i % 100 < 95 THEN 250 WHEN i % 100 < 98 THEN 451 WHEN i % 100 < 99 THEN 550 ELSE NULL END,
       CASE WHEN i % 100 < 95 THEN '250 2.0.0 Ok' WHEN i % 100 < 98 THEN '451 4.3.0 Try again later'
            WHEN i % 100 < 99 THEN '550 5.1.1 No such user' ELSE 'the member left' END,
       'bench',
       CASE WHEN i % 100 < 95 THEN 'sent' WHEN i % 100 < 98 THEN 'deferred' WHEN i % 100 < 99 THEN 'failed'
            ELSE 'skipped' END
FROM :series(i, 1, 1000000) JOIN campaigns c ON c.id = 1 + (i / 100000) % 5;
