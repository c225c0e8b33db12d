-- A new session's place in its queue is a COUNT over the queue's waiting sessions. With
-- `sessions_waiting` alone every counted entry was a look-up of its row for the department;
-- this index holds the department, so the count reads index pages only.
CREATE INDEX sessions_queue_place ON sessions (business_id, COALESCE(department_id, ''), number)
    WHERE status = 'waiting' AND deleted_at IS NULL;
