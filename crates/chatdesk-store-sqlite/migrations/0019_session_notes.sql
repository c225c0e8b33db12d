-- Private notes: staff's words in a conversation, kept apart from its messages so that
-- nothing that reads messages (history, unread counts, search, the seed doors) can show
-- them to a customer. Numbered per session, apart from messages' seq.
CREATE TABLE session_notes (
    session_id BLOB    NOT NULL REFERENCES sessions (id),
    number     INTEGER NOT NULL,
    author     TEXT    NOT NULL,
    content    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, number)
) WITHOUT ROWID;
