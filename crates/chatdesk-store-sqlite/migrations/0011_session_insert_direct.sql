-- A new session's search entry and its queue's count are written by the store's own
-- statements (open.rs), not by triggers, as messages' search entries are (0010). A trigger
-- makes its INSERT a statement transaction: a savepoint, a journal holding a copy of every
-- page the INSERT touched (the table, its seven indexes, the search index's pages), and
-- FTS5 writing its pending index to disk at the savepoint. That was ~15% of
-- POST /v1/sessions. Every other way into or out of a queue keeps its trigger (0009): those
-- are updates, each its own statement.
DROP TRIGGER session_search_insert;
DROP TRIGGER queue_enter_on_insert;
