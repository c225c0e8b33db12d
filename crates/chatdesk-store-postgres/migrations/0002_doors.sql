-- Seed 003's activity counters live on the session.
ALTER TABLE sessions ADD COLUMN activity_messages_sent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN activity_conversations BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN response_time_total_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN response_count BIGINT NOT NULL DEFAULT 0;

CREATE INDEX sessions_by_idle ON sessions (last_activity_at) WHERE deleted_at IS NULL AND status <> 'closed';

-- Seed 002's per-session contact.
CREATE TABLE session_contacts (
    session_id    UUID        PRIMARY KEY REFERENCES sessions (id),
    id            UUID        NOT NULL UNIQUE,
    contact_name  TEXT        NOT NULL,
    contact_email TEXT        NOT NULL,
    contact_phone TEXT,
    position      TEXT,
    company_name  TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- A visitor linked to an account at login. One account per visitor, for good.
CREATE TABLE visitor_links (
    visitor_id UUID        PRIMARY KEY,
    user_id    TEXT        NOT NULL,
    linked_at  TIMESTAMPTZ NOT NULL
);
