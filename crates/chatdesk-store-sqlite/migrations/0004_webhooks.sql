CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    events      TEXT    NOT NULL, -- comma-separated event names
    created_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE INDEX webhooks_by_tenant ON webhooks (business_id) WHERE deleted_at IS NULL;

-- Deliveries are queued here and survive restarts. The body (and the id the receiver
-- de-duplicates on) is fixed when queued, so every retry sends the same thing.
CREATE TABLE webhook_deliveries (
    id              BLOB    PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id),
    event           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    failed_at       INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
