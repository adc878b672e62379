-- A thread as a record: its status (idle, interrupted, error; busy while a run's lease on
-- it lasts), what the user set on it with put_thread (name, user_id and metadata, kept here
-- as info: NULL until set, and then the row outlives its checkpoints), and the run that
-- holds it.
-- In DO, as in 0002: psycopg would deallocate every prepared statement on "ALTER TABLE".
DO $$ BEGIN ALTER TABLE {schema}history_threads
    ADD COLUMN IF NOT EXISTS status TEXT NOT NULL DEFAULT 'idle',
    ADD COLUMN IF NOT EXISTS name TEXT,
    ADD COLUMN IF NOT EXISTS user_id TEXT,
    ADD COLUMN IF NOT EXISTS info JSONB,
    ADD COLUMN IF NOT EXISTS run_id TEXT,
    ADD COLUMN IF NOT EXISTS run_until DOUBLE PRECISION; END $$;
-- The status of the heads already there, from what is written on each.
UPDATE {schema}history_threads SET status = CASE
    WHEN EXISTS (SELECT 1 FROM {schema}history_writes w WHERE w.thread_id = history_threads.thread_id
        AND w.namespace = history_threads.namespace AND w.checkpoint_ns = ''
        AND w.checkpoint_id = history_threads.head_id AND w.channel = '__error__') THEN 'error'
    WHEN EXISTS (SELECT 1 FROM {schema}history_writes w WHERE w.thread_id = history_threads.thread_id
        AND w.namespace = history_threads.namespace AND w.checkpoint_ns = ''
        AND w.checkpoint_id = history_threads.head_id AND w.channel = '__interrupt__')
        THEN 'interrupted'
    ELSE 'idle' END;
-- Newest made first (list_threads(sort="created")), and one user's threads newest first.
CREATE INDEX IF NOT EXISTS history_threads_first_at
    ON {schema}history_threads (first_at DESC, thread_id, namespace);
CREATE INDEX IF NOT EXISTS history_threads_user_id
    ON {schema}history_threads (user_id, last_at DESC, thread_id, namespace);
