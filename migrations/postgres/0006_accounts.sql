-- Staff, auditor and admin accounts, their browser sessions and their API tokens. Sessions and tokens live in the
-- database so that every instance on it knows them; only hashes of their secrets are stored.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'staff', 'auditor')),
    -- argon2id, in the PHC string format.
    password_hash TEXT    NOT NULL,
    active        BIGINT  NOT NULL DEFAULT 1,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's value: a leaked database does not hand out live sessions.
    id_hash    TEXT    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    -- The per-session token every state-changing form carries.
    csrf       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    seen_at    BIGINT  NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users (id),
    -- SHA-256 of the token: it is shown once, at creation.
    hash         TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
