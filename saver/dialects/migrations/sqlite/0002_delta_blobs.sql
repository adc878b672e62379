-- Blobs may hold a delta: the items appended to the chain that starts at snapshot `base`
-- (format 2). `base` sits before `data` so reading it never walks a large value's overflow
-- pages; SQLite cannot reorder columns, so the table is rebuilt (once, at setup()).
CREATE TABLE history_blobs_v2 (
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    version TEXT NOT NULL,
    format INTEGER NOT NULL DEFAULT 1,
    base TEXT,
    type TEXT NOT NULL,
    data BLOB,
    PRIMARY KEY (thread_id, namespace, checkpoint_ns, channel, version)
);
INSERT INTO history_blobs_v2 (thread_id, namespace, checkpoint_ns, channel, version, format, type, data)
    SELECT thread_id, namespace, checkpoint_ns, channel, version, format, type, data FROM history_blobs;
DROP TABLE history_blobs;
ALTER TABLE history_blobs_v2 RENAME TO history_blobs;
