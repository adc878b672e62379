-- Rows `saver doctor --repair` took out of the history tables because they cannot be read:
-- kept, never deleted, each as a line of `saver export` (bytes in base64), with what was
-- wrong with it, until someone restores or drops them.
CREATE TABLE IF NOT EXISTS history_quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    quarantined_at REAL NOT NULL,
    source TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    namespace TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL,
    checkpoint_id TEXT NOT NULL,
    problem TEXT NOT NULL,
    stored_row TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_quarantine_thread
    ON history_quarantine (thread_id, namespace, checkpoint_ns, checkpoint_id);
