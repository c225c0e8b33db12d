-- When a tenant (department '') or one of its departments answers: a schedule as JSON
-- (chatdesk_core::domain::BusinessHours), checked when set.
CREATE TABLE business_hours (
    business_id TEXT    NOT NULL,
    department  TEXT    NOT NULL,
    schedule    TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (business_id, department)
) WITHOUT ROWID;
