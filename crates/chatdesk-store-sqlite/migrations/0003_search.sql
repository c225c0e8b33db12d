-- Full-text search. Words match case-insensitively; no stemming and no diacritic folding,
-- the same rules as PostgreSQL's 'simple' configuration.
CREATE VIRTUAL TABLE message_search USING fts5(
    content, session_id UNINDEXED, seq UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_search (content, session_id, seq) VALUES (new.content, new.session_id, new.seq);
END;
INSERT INTO message_search (content, session_id, seq) SELECT content, session_id, seq FROM messages;

CREATE VIRTUAL TABLE session_search USING fts5(
    topic, title, session_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER session_search_insert AFTER INSERT ON sessions BEGIN
    INSERT INTO session_search (topic, title, session_id) VALUES (new.topic, new.title, new.id);
END;
CREATE TRIGGER session_search_update AFTER UPDATE OF topic, title ON sessions BEGIN
    DELETE FROM session_search WHERE session_id = old.id;
    INSERT INTO session_search (topic, title, session_id) VALUES (new.topic, new.title, new.id);
END;
INSERT INTO session_search (topic, title, session_id) SELECT topic, title, id FROM sessions;
