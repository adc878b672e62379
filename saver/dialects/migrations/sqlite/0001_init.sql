-- One row per checkpoint; channel values live in history_blobs, stored once per version.
CREATE TABLE IF NOT EXISTS history_checkpoints (
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    parent_checkpoint_id TEXT,
    type TEXT NOT NULL,
    checkpoint BLOB NOT NULL,
    blob_versions TEXT NOT NULL,
    metadata TEXT NOT NULL,
    run_id TEXT,
    created_at REAL NOT NULL,
    PRIMARY KEY (thread_id, namespace, checkpoint_ns, checkpoint_id)
);
CREATE TABLE IF NOT EXISTS history_blobs (
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    version TEXT NOT NULL,
    format INTEGER NOT NULL DEFAULT 1,
    type TEXT NOT NULL,
    data BLOB,
    PRIMARY KEY (thread_id, namespace, checkpoint_ns, channel, version)
);
CREATE TABLE IF NOT EXISTS history_writes (
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    task_path TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    type TEXT NOT NULL,
    data BLOB,
    PRIMARY KEY (thread_id, namespace, checkpoint_ns, checkpoint_id, task_id, idx)
);
CREATE INDEX IF NOT EXISTS history_checkpoints_run_id
    ON history_checkpoints (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS history_checkpoints_namespace_id
    ON history_checkpoints (namespace, checkpoint_id);
