-- The presence an agent starts with the first time it connects: 'online' (routed sessions at
-- once) or 'away' (until it chooses otherwise).
ALTER TABLE tenant_settings ADD COLUMN initial_presence TEXT NOT NULL DEFAULT 'online';
