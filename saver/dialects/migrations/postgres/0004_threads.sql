-- One row per thread of the root namespace: its head (newest checkpoint), how many
-- checkpoints it has, first and last activity and the head's metadata. Every put of a root checkpoint keeps it current in the
-- same transaction, and every delete of checkpoints refreshes it, so listing threads reads a
-- page of this table, newest first, instead of grouping every checkpoint.
CREATE TABLE IF NOT EXISTS {schema}history_threads (
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    head_id TEXT NOT NULL,
    checkpoints INTEGER NOT NULL,
    first_at DOUBLE PRECISION NOT NULL,
    last_at DOUBLE PRECISION NOT NULL,
    metadata JSONB NOT NULL,
    PRIMARY KEY (thread_id, namespace)
);
-- Newest first; namespace last, so that no statement about one thread can take this index
-- for a shorter way to its row than the primary key.
CREATE INDEX IF NOT EXISTS history_threads_last_at
    ON {schema}history_threads (last_at DESC, thread_id, namespace);
-- Filled from the checkpoints already there: one pass over the primary key.
INSERT INTO {schema}history_threads (thread_id, namespace, head_id, checkpoints, first_at, last_at,
    metadata)
SELECT s.thread_id, s.namespace, s.head_id, s.checkpoints, s.first_at, s.last_at, h.metadata
FROM (
    SELECT thread_id, namespace, MAX(checkpoint_id) AS head_id, COUNT(*) AS checkpoints,
        MIN(created_at) AS first_at, MAX(created_at) AS last_at
    FROM {schema}history_checkpoints
    WHERE checkpoint_ns = ''
    GROUP BY thread_id, namespace
) AS s
JOIN {schema}history_checkpoints h ON h.thread_id = s.thread_id AND h.namespace = s.namespace
    AND h.checkpoint_ns = '' AND h.checkpoint_id = s.head_id;
-- A GIN index buffers new entries in a pending list that every search scans in full until
-- VACUUM merges it: right after a bulk load a filter then costs in proportion to the load.
-- Without it each put merges its own few keys, and searches stay flat. (On tables partitioned
-- by thread_id the setting belongs to each partition's index.)
DO $$ DECLARE part regclass; BEGIN FOR part IN
    SELECT c.oid::regclass FROM pg_class c WHERE c.relkind = 'i'
        AND (c.oid = to_regclass('{schema}history_checkpoints_metadata') OR c.oid IN (
            SELECT inhrelid FROM pg_inherits
            WHERE inhparent = to_regclass('{schema}history_checkpoints_metadata')))
LOOP EXECUTE format('ALTER INDEX %s SET (fastupdate = off)', part); PERFORM gin_clean_pending_list(part); END LOOP; END $$;
-- Newest first across threads (list(None)) walks this index. It is on an expression no other
-- statement names: (namespace, checkpoint_id) served any statement that says `namespace = ?`,
-- and a plan cached while the table was empty walked every thread's rows through it to find
-- one thread's (a put's lookup did), as a filter added a bitmap of the whole namespace to the
-- GIN index's. Several saver namespaces in one table are walked past. (DROP in DO: see 0002.)
CREATE INDEX IF NOT EXISTS history_checkpoints_newest
    ON {schema}history_checkpoints ((checkpoint_id || ''));
DO $$ BEGIN DROP INDEX IF EXISTS {schema}history_checkpoints_namespace_id; END $$;
