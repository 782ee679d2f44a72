-- Every serve and send-due process registers here and heartbeats in database time. Leases of deliveries
-- (lease_until) are written and compared in database time too, never in a machine's own clock: the
-- deliveries of an instance whose heartbeat stopped are taken over by the next claim.
CREATE TABLE instances (
    id           TEXT    PRIMARY KEY,
    host         TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    version      TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    stopped_at   INTEGER,
    -- Set by `outreach reload`; the instance reloads its templates at its next heartbeat.
    reload_asked INTEGER NOT NULL DEFAULT 0
);

-- One row: this installation's id, part of every Message-ID so two installations never issue the same one.
CREATE TABLE installation (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    id         TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Leases by owner: heartbeats renew them, takeover looks them up.
CREATE INDEX deliveries_by_owner ON deliveries (lease_owner) WHERE status = 'sending';
