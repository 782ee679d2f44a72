-- Times are epoch milliseconds (UTC) in every table, so both backends share one set of queries.

CREATE TABLE plans (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fiscal_year   BIGINT NOT NULL UNIQUE,
    title         TEXT    NOT NULL,
    source_sha256 TEXT    NOT NULL,
    imported_at   BIGINT NOT NULL
);

CREATE TABLE themes (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id  BIGINT NOT NULL REFERENCES plans(id),
    slug     TEXT    NOT NULL,
    position BIGINT NOT NULL,
    title_ja TEXT    NOT NULL,
    title_en TEXT    NOT NULL,
    UNIQUE (plan_id, slug)
);

-- What Tokyo does (甲) and what the Chamber does (乙): one row per ○ item, ・ sub-items as a JSON array.
CREATE TABLE plan_items (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    theme_id  BIGINT NOT NULL REFERENCES themes(id),
    party     TEXT    NOT NULL CHECK (party IN ('tokyo', 'chamber')),
    position  BIGINT NOT NULL,
    text      TEXT    NOT NULL,
    sub_items TEXT    NOT NULL,
    -- Chamber duties only: comma-separated channel slugs named in the duty's parenthesis.
    channels  TEXT    NOT NULL DEFAULT '',
    UNIQUE (theme_id, party, position)
);

CREATE TABLE members (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email        TEXT    NOT NULL,
    email_norm   TEXT    NOT NULL UNIQUE,
    company      TEXT    NOT NULL,
    contact_name TEXT    NOT NULL,
    locale       TEXT    NOT NULL,
    -- Current global state; every change is also appended to member_events.
    status       TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unsubscribed', 'suppressed')),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- Current per-theme choice; every change is also appended to member_events.
CREATE TABLE member_themes (
    member_id  BIGINT NOT NULL REFERENCES members(id),
    theme_slug TEXT    NOT NULL,
    subscribed BIGINT NOT NULL,
    source     TEXT    NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (member_id, theme_slug)
);
CREATE INDEX member_themes_by_theme ON member_themes (theme_slug, subscribed);

-- Append-only history of global and per-theme state changes.
CREATE TABLE member_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members(id),
    theme_slug TEXT,
    event      TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    at         BIGINT NOT NULL
);
CREATE INDEX member_events_by_member ON member_events (member_id, at);

CREATE TABLE advisors (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      TEXT    NOT NULL,
    email_norm TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    branch     TEXT    NOT NULL,
    active     BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);

CREATE TABLE campaigns (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT    NOT NULL,
    fiscal_year  BIGINT NOT NULL,
    theme_slug   TEXT    NOT NULL,
    -- The plan's words for the duty this campaign carries out, for reports per duty.
    duty         TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    template     TEXT    NOT NULL,
    -- Exactly one of at_ms / cron is set.
    at_ms        BIGINT,
    cron         TEXT,
    time_zone    TEXT    NOT NULL,
    from_ms      BIGINT,
    until_ms     BIGINT,
    state        TEXT    NOT NULL CHECK (state IN ('scheduled', 'paused', 'cancelled', 'finished')),
    state_reason TEXT    NOT NULL DEFAULT '',
    -- Ticks at or before this instant are settled (fired, skipped, or missed while paused).
    settled_ms   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- One run per firing: the natural key makes a tick fired twice (restart, two timers, two instances) one run.
CREATE TABLE runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id   BIGINT NOT NULL REFERENCES campaigns(id),
    scheduled_for BIGINT NOT NULL,
    trigger       TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('sending', 'done')),
    audience      BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    UNIQUE (campaign_id, scheduled_for)
);

-- The ledger: one row per recipient and run, frozen when the run starts.
CREATE TABLE deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          BIGINT NOT NULL REFERENCES runs(id),
    recipient_kind  TEXT    NOT NULL,
    recipient_id    BIGINT,
    email           TEXT    NOT NULL,
    email_norm      TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_code       BIGINT,
    last_reply      TEXT    NOT NULL DEFAULT '',
    updated_at      BIGINT NOT NULL,
    UNIQUE (run_id, email_norm)
);
-- The claim walks this in order and stops at its LIMIT: it never reads the whole queue.
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at, id);
CREATE INDEX deliveries_by_run ON deliveries (run_id, status);

-- One row per SMTP attempt. Denormalised on purpose: an auditor reads it without joins that later edits could change.
CREATE TABLE send_log (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             BIGINT NOT NULL,
    delivery_id    BIGINT NOT NULL REFERENCES deliveries(id),
    attempt        BIGINT NOT NULL,
    run_id         BIGINT NOT NULL,
    campaign_id    BIGINT NOT NULL,
    theme_slug     TEXT    NOT NULL,
    duty           TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    recipient      TEXT    NOT NULL,
    message_id     TEXT    NOT NULL,
    template       TEXT    NOT NULL,
    content_sha256 TEXT    NOT NULL,
    smtp_code      BIGINT,
    smtp_reply     TEXT    NOT NULL,
    -- skipped: not sent because the recipient left (unsubscribed or suppressed) after the run started.
    -- The instance (process) that made the attempt.
    sender         TEXT    NOT NULL,
    outcome        TEXT    NOT NULL CHECK (outcome IN ('sent', 'deferred', 'failed', 'skipped')),
    UNIQUE (delivery_id, attempt)
);
CREATE INDEX send_log_by_at ON send_log (at);
CREATE INDEX send_log_by_campaign ON send_log (campaign_id, at);
