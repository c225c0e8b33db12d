-- Messages whose search entry is not written yet: the committer's batch records each new
-- message here, and the writer moves them into `message_search` in a transaction of its own
-- (`src/search_backlog.rs`), so FTS5's segment writes and merges stay out of the batch.
CREATE TABLE search_backlog (
    session_id BLOB    NOT NULL,
    seq        INTEGER NOT NULL
);
