-- A tenant's ready answers, found by a short code; a code is unique in its tenant, or in
-- one department of it.
CREATE TABLE canned_responses (
    id            UUID        NOT NULL PRIMARY KEY,
    business_id   TEXT        NOT NULL,
    department_id TEXT,
    code          TEXT        NOT NULL,
    text          TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX canned_responses_code ON canned_responses
    (business_id, COALESCE(department_id, ''), code);
