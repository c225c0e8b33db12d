CREATE TABLE webhooks (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id TEXT        NOT NULL,
    url         TEXT        NOT NULL,
    secret      TEXT        NOT NULL,
    events      TEXT        NOT NULL, -- comma-separated event names
    created_at  TIMESTAMPTZ NOT NULL,
    deleted_at  TIMESTAMPTZ
);
CREATE INDEX webhooks_by_tenant ON webhooks (business_id) WHERE deleted_at IS NULL;

-- Deliveries are queued here and survive restarts. The body (and the id the receiver
-- de-duplicates on) is fixed when queued, so every retry sends the same thing.
CREATE TABLE webhook_deliveries (
    id              UUID        PRIMARY KEY,
    webhook_id      BIGINT      NOT NULL REFERENCES webhooks (id),
    event           TEXT        NOT NULL,
    body            TEXT        NOT NULL,
    attempts        BIGINT      NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    failed_at       TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
