-- Rows `saver doctor --repair` took out of the history tables because they cannot be read:
-- kept, never deleted, each as JSON (bytes in base64) with what was wrong with it, until
-- someone restores or drops them. Keyed, as every table, by thread first; `row_key` says
-- which blob or write of the checkpoint it was.
CREATE TABLE IF NOT EXISTS {schema}history_quarantine (
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL,
    checkpoint_id TEXT NOT NULL,
    source TEXT NOT NULL,
    row_key TEXT NOT NULL,
    quarantined_at DOUBLE PRECISION NOT NULL,
    problem TEXT NOT NULL,
    stored_row TEXT NOT NULL,
    PRIMARY KEY (thread_id, namespace, checkpoint_ns, checkpoint_id, source, row_key)
);
