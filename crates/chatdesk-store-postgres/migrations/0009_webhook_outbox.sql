-- Changes webhooks subscribe to, written in the transaction that made them (and only when the
-- tenant has a webhook for the event), so that a crash between a commit and queueing its
-- deliveries loses none. The dispatcher turns entries into deliveries and deletes them in one
-- transaction.
CREATE TABLE webhook_outbox (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    business_id TEXT        NOT NULL,
    event       TEXT        NOT NULL,
    session_id  UUID        NOT NULL,
    seq         BIGINT, -- the message, for message.created
    at          TIMESTAMPTZ NOT NULL
);
