-- Agents' open real-time connections, counted per node (server process), so that a node that
-- stops without closing them can be taken off its agents' counts by the others.
CREATE TABLE nodes (
    node_id TEXT PRIMARY KEY,
    seen_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE node_connections (
    node_id TEXT NOT NULL,
    business_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    connections BIGINT NOT NULL,
    PRIMARY KEY (node_id, business_id, agent_id)
);
-- Counts from before belong to no node, and no node would ever take them back.
UPDATE agents SET connections = 0;
