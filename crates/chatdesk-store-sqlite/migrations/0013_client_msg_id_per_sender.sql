-- An idempotency key belongs to its sender: a customer who reuses an id the agent used in
-- the same session sends a new message instead of getting the agent's back.
DROP INDEX messages_by_client_msg_id;
CREATE UNIQUE INDEX messages_by_client_msg_id ON messages (session_id, sender, client_msg_id)
    WHERE client_msg_id IS NOT NULL;
