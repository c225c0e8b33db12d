-- How many sessions wait in each queue (a tenant's, or one of its departments'), kept by
-- triggers on every way a session enters or leaves a queue: a new arrival's place is then
-- the queue's length minus the few that arrived after it, not a count of the whole queue
-- (which grew with the queue, and was what POST /v1/sessions spent its time on).
-- A session is in the queue (business_id, COALESCE(department_id, '')) while
-- status = 'waiting' AND deleted_at IS NULL.
CREATE TABLE queue_lengths (
    business_id TEXT    NOT NULL,
    department  TEXT    NOT NULL,
    waiting     INTEGER NOT NULL,
    PRIMARY KEY (business_id, department)
) WITHOUT ROWID;

INSERT INTO queue_lengths (business_id, department, waiting)
SELECT business_id, COALESCE(department_id, ''), COUNT(*) FROM sessions
WHERE status = 'waiting' AND deleted_at IS NULL
GROUP BY business_id, COALESCE(department_id, '');

CREATE TRIGGER queue_enter_on_insert AFTER INSERT ON sessions
WHEN new.status = 'waiting' AND new.deleted_at IS NULL
BEGIN
    INSERT INTO queue_lengths (business_id, department, waiting)
    VALUES (new.business_id, COALESCE(new.department_id, ''), 1)
    ON CONFLICT (business_id, department) DO UPDATE SET waiting = waiting + 1;
END;

-- Updates fire only when a session's queue membership or queue changes (an append's counter
-- update, or a patch that leaves it waiting where it was, does not).
CREATE TRIGGER queue_leave_on_update AFTER UPDATE OF status, deleted_at, business_id, department_id ON sessions
WHEN old.status = 'waiting' AND old.deleted_at IS NULL
 AND NOT (new.status = 'waiting' AND new.deleted_at IS NULL AND new.business_id = old.business_id
          AND COALESCE(new.department_id, '') = COALESCE(old.department_id, ''))
BEGIN
    UPDATE queue_lengths SET waiting = waiting - 1
    WHERE business_id = old.business_id AND department = COALESCE(old.department_id, '');
END;

CREATE TRIGGER queue_enter_on_update AFTER UPDATE OF status, deleted_at, business_id, department_id ON sessions
WHEN new.status = 'waiting' AND new.deleted_at IS NULL
 AND NOT (old.status = 'waiting' AND old.deleted_at IS NULL AND new.business_id = old.business_id
          AND COALESCE(new.department_id, '') = COALESCE(old.department_id, ''))
BEGIN
    INSERT INTO queue_lengths (business_id, department, waiting)
    VALUES (new.business_id, COALESCE(new.department_id, ''), 1)
    ON CONFLICT (business_id, department) DO UPDATE SET waiting = waiting + 1;
END;

-- chatdesk itself only soft-deletes (deleted_at); this keeps the count right if a row is removed.
CREATE TRIGGER queue_leave_on_delete AFTER DELETE ON sessions
WHEN old.status = 'waiting' AND old.deleted_at IS NULL
BEGIN
    UPDATE queue_lengths SET waiting = waiting - 1
    WHERE business_id = old.business_id AND department = COALESCE(old.department_id, '');
END;
