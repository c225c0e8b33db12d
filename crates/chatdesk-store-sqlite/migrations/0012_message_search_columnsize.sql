-- The message search index, made cheaper to write (each message adds one entry, inside the
-- committer's batch):
-- * without its per-row token counts (`columnsize=0`). FTS5 keeps them, in a table of
--   their own, only for ranking (bm25); search here orders by time, never by rank. Every
--   message wrote a row there: ~6% of the committer's instructions per message (callgrind,
--   `fanout`).
-- * merging its segments at 8 per level instead of 4 (`automerge`). Every commit adds a
--   segment, and merging them was ~3% of the server's instructions per message; a search
--   reads at most 7 instead of 3 segments per level (no slower in a 300,000-row check).
-- Rebuilt from the old index's own rows, then renamed.
CREATE VIRTUAL TABLE message_search_next USING fts5(
    content, session_id UNINDEXED, seq UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0',
    columnsize = 0
);
INSERT INTO message_search_next (message_search_next, rank) VALUES ('automerge', 8);
INSERT INTO message_search_next (content, session_id, seq)
    SELECT content, session_id, seq FROM message_search;
DROP TABLE message_search;
ALTER TABLE message_search_next RENAME TO message_search;
