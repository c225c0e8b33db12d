-- Sessions an assistant (a service answering as `assistant`) holds from their start, outside
-- the agents' queue: which assistant, so that people can hand a session back after a hand-off.
CREATE TABLE session_assistants (
    session_id   UUID NOT NULL PRIMARY KEY REFERENCES sessions (id),
    assistant_id TEXT NOT NULL
);
