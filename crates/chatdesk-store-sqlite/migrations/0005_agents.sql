CREATE TABLE departments (
    id          BLOB    PRIMARY KEY,
    business_id TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER
) WITHOUT ROWID;
CREATE UNIQUE INDEX departments_by_name ON departments (business_id, name) WHERE deleted_at IS NULL;

CREATE TABLE department_members (
    department_id BLOB NOT NULL REFERENCES departments (id),
    agent_id      TEXT NOT NULL,
    PRIMARY KEY (department_id, agent_id)
) WITHOUT ROWID;

-- An agent's standing in a tenant: how many chats at once, and presence. `presence` is the
-- agent's own choice (online, away, offline); `connections` counts its open real-time
-- connections, so an agent with none is offline whatever it chose.
CREATE TABLE agents (
    business_id    TEXT    NOT NULL,
    agent_id       TEXT    NOT NULL,
    max_concurrent INTEGER NOT NULL DEFAULT 5,
    presence       TEXT    NOT NULL DEFAULT 'online',
    connections    INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (business_id, agent_id)
) WITHOUT ROWID;
