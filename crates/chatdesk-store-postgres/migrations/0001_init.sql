CREATE TABLE sessions (
    id               UUID        PRIMARY KEY,
    number           BIGINT      GENERATED ALWAYS AS IDENTITY UNIQUE,
    business_id      TEXT        NOT NULL,
    location_id      TEXT,
    owner            TEXT        NOT NULL,
    session_type     TEXT        NOT NULL,
    topic            TEXT,
    title            TEXT,
    priority         TEXT        NOT NULL,
    status           TEXT        NOT NULL,
    agent_id         TEXT,
    department_id    TEXT,
    metadata         JSONB       NOT NULL DEFAULT '{}',
    last_seq         BIGINT      NOT NULL DEFAULT 0,
    message_count    BIGINT      NOT NULL DEFAULT 0,
    started_at       TIMESTAMPTZ NOT NULL,
    ended_at         TIMESTAMPTZ,
    last_activity_at TIMESTAMPTZ NOT NULL,
    last_message_at  TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    deleted_at       TIMESTAMPTZ
);

CREATE INDEX sessions_by_owner ON sessions (owner, business_id, last_activity_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX sessions_by_tenant ON sessions (business_id, last_activity_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX sessions_by_activity ON sessions (last_activity_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX sessions_by_agent ON sessions (agent_id) WHERE agent_id IS NOT NULL;

CREATE TABLE messages (
    session_id    UUID        NOT NULL REFERENCES sessions (id),
    seq           BIGINT      NOT NULL,
    id            UUID        NOT NULL UNIQUE,
    sender        TEXT        NOT NULL,
    sender_type   TEXT        NOT NULL,
    content       TEXT        NOT NULL,
    client_msg_id TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    edited_at     TIMESTAMPTZ,
    deleted_at    TIMESTAMPTZ,
    PRIMARY KEY (session_id, seq)
);

CREATE UNIQUE INDEX messages_by_client_msg_id ON messages (session_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;

CREATE TABLE read_cursors (
    session_id    UUID        NOT NULL REFERENCES sessions (id),
    reader        TEXT        NOT NULL,
    last_read_seq BIGINT      NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_id, reader)
);

CREATE INDEX read_cursors_by_reader ON read_cursors (reader);

CREATE TABLE accounts (
    id            BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT        NOT NULL UNIQUE,
    password_hash TEXT        NOT NULL,
    role          TEXT        NOT NULL,
    business_id   TEXT,
    name          TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL,
    business_id TEXT        NOT NULL,
    key_hash    TEXT        NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
