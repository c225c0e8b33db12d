-- Private notes: staff's words in a conversation, kept apart from its messages so that
-- nothing that reads messages (history, unread counts, search, the seed doors) can show
-- them to a customer. Numbered per session, apart from messages' seq.
CREATE TABLE session_notes (
    session_id UUID        NOT NULL REFERENCES sessions (id),
    number     BIGINT      NOT NULL,
    author     TEXT        NOT NULL,
    content    TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_id, number)
);
