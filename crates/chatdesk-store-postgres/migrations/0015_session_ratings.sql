-- A customer's rating of its closed conversation: one per session (the first is kept).
CREATE TABLE session_ratings (
    session_id UUID        NOT NULL PRIMARY KEY REFERENCES sessions (id),
    score      BIGINT      NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment    TEXT,
    rated_at   TIMESTAMPTZ NOT NULL
);
