-- Files uploaded into sessions. A message keeps what it shows of its files (JSON, NULL for
-- none) so that reading a page of messages joins nothing; the files' own records hold the
-- uploader, for sending, and the tenant, for its quota, which `attachment_usage` keeps
-- as a running sum checked and raised in one statement (its row lock orders two uploads).
ALTER TABLE messages ADD COLUMN attachments TEXT;
CREATE TABLE attachments (
    id           UUID        NOT NULL PRIMARY KEY,
    business_id  TEXT        NOT NULL,
    session_id   UUID        NOT NULL REFERENCES sessions (id),
    uploader     TEXT        NOT NULL,
    name         TEXT        NOT NULL,
    content_type TEXT        NOT NULL,
    size         BIGINT      NOT NULL,
    thumbnail_size BIGINT,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_session ON attachments (session_id);
CREATE TABLE attachment_usage (
    business_id TEXT   NOT NULL PRIMARY KEY,
    bytes       BIGINT NOT NULL
);
