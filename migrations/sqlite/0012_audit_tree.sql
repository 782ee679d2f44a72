-- The verifiable audit log (issue 17, docs/audit-format.md): every send-log row, staff action and consent
-- change becomes a leaf of one Merkle tree, sealed into signed checkpoints.

-- One row, made by the first sealer: the log's name (its checkpoints' origin) and the key of the personal
-- hashes (hex). Sealers lock this row, so one seals at a time; the signing key is not here but derived from
-- the installation's link key, so that whoever can write the database cannot sign.
CREATE TABLE audit_state (
    singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
    origin       TEXT    NOT NULL,
    personal_key TEXT    NOT NULL
);

-- Rows committed but not yet sealed, in commit order. Written by triggers in the transaction of the row
-- itself, so no writer can forget it and a rolled-back row leaves none; the sealer deletes what it sealed.
-- No unique index: one cost a fifth of the sending rate (tests/bench/throughput.sh); the sealer skips a row
-- queued twice.
CREATE TABLE audit_pending (
    id     INTEGER PRIMARY KEY,
    kind   TEXT    NOT NULL CHECK (kind IN ('send_attempt', 'staff_action', 'consent_change')),
    row_id INTEGER NOT NULL
);

-- The tree: leaf i is the row (kind, row_id); its hash is kept so proofs need no rows.
CREATE TABLE audit_leaves (
    leaf_index INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    row_id     INTEGER NOT NULL,
    leaf_hash  TEXT    NOT NULL,
    UNIQUE (kind, row_id)
);

-- One signed checkpoint per seal; `frontier` (the roots of the perfect subtrees, hex, comma-separated) lets
-- the next seal go on without reading the leaves.
CREATE TABLE audit_checkpoints (
    size     INTEGER PRIMARY KEY,
    root     TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    note     TEXT    NOT NULL,
    frontier TEXT    NOT NULL
);

CREATE TRIGGER send_log_to_seal AFTER INSERT ON send_log
BEGIN
    INSERT INTO audit_pending (kind, row_id) VALUES ('send_attempt', NEW.id);
END;
CREATE TRIGGER actions_to_seal AFTER INSERT ON actions
BEGIN
    INSERT INTO audit_pending (kind, row_id) VALUES ('staff_action', NEW.id);
END;
CREATE TRIGGER member_events_to_seal AFTER INSERT ON member_events
BEGIN
    INSERT INTO audit_pending (kind, row_id) VALUES ('consent_change', NEW.id);
END;

CREATE TRIGGER audit_leaves_no_update BEFORE UPDATE ON audit_leaves
BEGIN
    SELECT RAISE(ABORT, 'the audit tree is append-only');
END;
CREATE TRIGGER audit_leaves_no_delete BEFORE DELETE ON audit_leaves
BEGIN
    SELECT RAISE(ABORT, 'the audit tree is append-only');
END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit checkpoints are append-only');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit checkpoints are append-only');
END;

-- Each day's latest checkpoint goes by mail to each witness (audit.witnesses) once: the instance whose claim
-- inserts the row sends it; a failed mail, or one whose sender died while sending, is claimed again.
CREATE TABLE audit_witness_mails (
    day     TEXT    NOT NULL,
    witness TEXT    NOT NULL,
    size    INTEGER NOT NULL,
    state   TEXT    NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    at      INTEGER NOT NULL,
    reply   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (day, witness)
);

-- Rows written before this migration are sealed first, in the order they happened.
INSERT INTO audit_pending (kind, row_id)
SELECT kind, row_id FROM (
    SELECT 'send_attempt' AS kind, id AS row_id, at FROM send_log
    UNION ALL SELECT 'staff_action', id, at FROM actions
    UNION ALL SELECT 'consent_change', id, at FROM member_events
) ORDER BY at, kind, row_id;
