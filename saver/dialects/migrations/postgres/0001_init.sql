-- One row per checkpoint; channel values live in history_blobs, stored once per version.
-- Every primary key starts with thread_id and no statement joins across threads, so the
-- tables can be distributed by thread_id (Citus: create_distributed_table(..., 'thread_id')).
CREATE TABLE IF NOT EXISTS {schema}history_checkpoints (
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    parent_checkpoint_id TEXT,
    type TEXT NOT NULL,
    checkpoint BYTEA NOT NULL,
    blob_versions JSONB NOT NULL,
    metadata JSONB NOT NULL,
    run_id TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (thread_id, namespace, checkpoint_ns, checkpoint_id)
);
CREATE TABLE IF NOT EXISTS {schema}history_blobs (
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    version TEXT NOT NULL,
    format INTEGER NOT NULL DEFAULT 1,
    type TEXT NOT NULL,
    data BYTEA,
    PRIMARY KEY (thread_id, namespace, checkpoint_ns, channel, version)
);
CREATE TABLE IF NOT EXISTS {schema}history_writes (
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    task_path TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    type TEXT NOT NULL,
    data BYTEA,
    PRIMARY KEY (thread_id, namespace, checkpoint_ns, checkpoint_id, task_id, idx)
);
CREATE INDEX IF NOT EXISTS history_checkpoints_run_id
    ON {schema}history_checkpoints (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS history_checkpoints_namespace_id
    ON {schema}history_checkpoints (namespace, checkpoint_id);
-- Metadata filters are jsonb containment (@>), which this index answers.
CREATE INDEX IF NOT EXISTS history_checkpoints_metadata
    ON {schema}history_checkpoints USING GIN (metadata jsonb_path_ops);
