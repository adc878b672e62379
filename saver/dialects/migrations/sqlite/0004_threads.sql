-- One row per thread of the root namespace: its head (newest checkpoint), how many
-- checkpoints it has, first and last activity and the head's metadata. Every put of a root checkpoint keeps it current in the
-- same transaction, and every delete of checkpoints refreshes it, so listing threads reads a
-- page of this table, newest first, instead of grouping every checkpoint.
CREATE TABLE IF NOT EXISTS history_threads (
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    head_id TEXT NOT NULL,
    checkpoints INTEGER NOT NULL,
    first_at REAL NOT NULL,
    last_at REAL NOT NULL,
    metadata TEXT NOT NULL,
    PRIMARY KEY (thread_id, namespace)
);
-- Newest first; namespace last, so that no statement about one thread can take this index
-- for a shorter way to its row than the primary key.
CREATE INDEX IF NOT EXISTS history_threads_last_at
    ON history_threads (last_at DESC, thread_id, namespace);
-- Filled from the checkpoints already there: one pass over the primary key.
INSERT INTO history_threads (thread_id, namespace, head_id, checkpoints, first_at, last_at,
    metadata)
SELECT s.thread_id, s.namespace, s.head_id, s.checkpoints, s.first_at, s.last_at, h.metadata
FROM (
    SELECT thread_id, namespace, MAX(checkpoint_id) AS head_id, COUNT(*) AS checkpoints,
        MIN(created_at) AS first_at, MAX(created_at) AS last_at
    FROM history_checkpoints
    WHERE checkpoint_ns = ''
    GROUP BY thread_id, namespace
) AS s
JOIN history_checkpoints h ON h.thread_id = s.thread_id AND h.namespace = s.namespace
    AND h.checkpoint_ns = '' AND h.checkpoint_id = s.head_id;
