-- Queues are served by priority (urgent first), then oldest first. The rank expression is
-- chatdesk_core::domain::QUEUE_RANK_SQL, written the same in the queries so these indexes
-- serve them: a queue's order (places) and a tenant's order across queues (routing).
CREATE INDEX sessions_queue_order ON sessions
    (business_id, COALESCE(department_id, ''), (CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END), number)
    WHERE status = 'waiting' AND deleted_at IS NULL;
CREATE INDEX sessions_routing_order ON sessions (business_id, (CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END), number)
    WHERE status = 'waiting' AND deleted_at IS NULL;
