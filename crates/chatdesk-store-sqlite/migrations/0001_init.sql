-- Times are INTEGER microseconds since the Unix epoch (UTC); UUIDs are 16-byte BLOBs.

CREATE TABLE sessions (
    number           INTEGER PRIMARY KEY AUTOINCREMENT,
    id               BLOB    NOT NULL UNIQUE,
    business_id      TEXT    NOT NULL,
    location_id      TEXT,
    owner            TEXT    NOT NULL,
    session_type     TEXT    NOT NULL,
    topic            TEXT,
    title            TEXT,
    priority         TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    agent_id         TEXT,
    department_id    TEXT,
    metadata         TEXT    NOT NULL DEFAULT '{}',
    last_seq         INTEGER NOT NULL DEFAULT 0,
    message_count    INTEGER NOT NULL DEFAULT 0,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER,
    last_activity_at INTEGER NOT NULL,
    last_message_at  INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    deleted_at       INTEGER
);

-- Resume look-up and "my sessions".
CREATE INDEX sessions_by_owner ON sessions (owner, business_id, last_activity_at DESC, id DESC)
    WHERE deleted_at IS NULL;
-- An agent's view of the tenant.
CREATE INDEX sessions_by_tenant ON sessions (business_id, last_activity_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX sessions_by_activity ON sessions (last_activity_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX sessions_by_agent ON sessions (agent_id) WHERE agent_id IS NOT NULL;

CREATE TABLE messages (
    session_id    BLOB    NOT NULL REFERENCES sessions (id),
    seq           INTEGER NOT NULL,
    id            BLOB    NOT NULL UNIQUE,
    sender        TEXT    NOT NULL,
    sender_type   TEXT    NOT NULL,
    content       TEXT    NOT NULL,
    client_msg_id TEXT,
    created_at    INTEGER NOT NULL,
    edited_at     INTEGER,
    deleted_at    INTEGER,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;

CREATE UNIQUE INDEX messages_by_client_msg_id ON messages (session_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;

CREATE TABLE read_cursors (
    session_id    BLOB    NOT NULL REFERENCES sessions (id),
    reader        TEXT    NOT NULL,
    last_read_seq INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (session_id, reader)
) WITHOUT ROWID;

CREATE INDEX read_cursors_by_reader ON read_cursors (reader);

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    business_id   TEXT,
    name          TEXT,
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    business_id TEXT    NOT NULL,
    key_hash    TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
