-- Changes webhooks subscribe to, written in the transaction that made them (and only when the
-- tenant has a webhook for the event), so that a crash between a commit and queueing its
-- deliveries loses none. The dispatcher turns entries into deliveries and deletes them in one
-- transaction.
CREATE TABLE webhook_outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    session_id  BLOB    NOT NULL,
    seq         INTEGER, -- the message, for message.created
    at          INTEGER NOT NULL
);
