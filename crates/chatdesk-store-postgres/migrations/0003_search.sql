-- Full-text search with the 'simple' configuration: case-insensitive words, no stemming,
-- the same rules as SQLite's unicode61 tokenizer.
CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple', content));
CREATE INDEX sessions_search ON sessions
    USING GIN (to_tsvector('simple', coalesce(topic, '') || ' ' || coalesce(title, '')));
