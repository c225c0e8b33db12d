-- Messages enter the search index from the committer's own statement (append.rs), not from a
-- trigger. A trigger makes every message INSERT a statement transaction, and FTS5 writes its
-- pending index to disk at every savepoint: one new index segment per message, merged again
-- and again, plus a statement journal copying each page the INSERT touched. Inserted directly,
-- the batch's index entries are flushed once, at its commit.
DROP TRIGGER message_search_insert;
