-- Per-tenant behaviour. A tenant without a row has the defaults.
CREATE TABLE tenant_settings (
    business_id  TEXT        PRIMARY KEY,
    routing      TEXT        NOT NULL DEFAULT 'manual', -- 'auto' | 'manual'
    allow_reopen BOOLEAN     NOT NULL DEFAULT TRUE,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX sessions_waiting ON sessions (business_id, number) WHERE status = 'waiting' AND deleted_at IS NULL;
