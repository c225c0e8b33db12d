-- A tenant's labels, and the sessions that carry them. Label ids are kept as text, as the
-- session list filter binds them.
CREATE TABLE labels (
    id          TEXT    NOT NULL PRIMARY KEY,
    business_id TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX labels_name ON labels (business_id, lower(name));
CREATE TABLE session_labels (
    session_id BLOB NOT NULL REFERENCES sessions (id),
    label_id   TEXT NOT NULL REFERENCES labels (id),
    PRIMARY KEY (session_id, label_id)
) WITHOUT ROWID;
CREATE INDEX session_labels_label ON session_labels (label_id);
