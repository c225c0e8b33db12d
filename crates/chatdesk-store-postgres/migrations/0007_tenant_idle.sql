-- A tenant's own idle timeout for the auto-close job (NULL: the server's default).
ALTER TABLE tenant_settings ADD COLUMN idle_timeout_secs BIGINT;
