-- A thread as a record: its status (idle, interrupted, error; busy while a run's lease on
-- it lasts), what the user set on it with put_thread (name, user_id and metadata, kept here
-- as info: NULL until set, and then the row outlives its checkpoints), and the run that
-- holds it.
ALTER TABLE history_threads ADD COLUMN status TEXT NOT NULL DEFAULT 'idle';
ALTER TABLE history_threads ADD COLUMN name TEXT;
ALTER TABLE history_threads ADD COLUMN user_id TEXT;
ALTER TABLE history_threads ADD COLUMN info TEXT;
ALTER TABLE history_threads ADD COLUMN run_id TEXT;
ALTER TABLE history_threads ADD COLUMN run_until REAL;
-- The status of the heads already there, from what is written on each.
UPDATE history_threads SET status = CASE
    WHEN EXISTS (SELECT 1 FROM history_writes w WHERE w.thread_id = history_threads.thread_id
        AND w.namespace = history_threads.namespace AND w.checkpoint_ns = ''
        AND w.checkpoint_id = history_threads.head_id AND w.channel = '__error__') THEN 'error'
    WHEN EXISTS (SELECT 1 FROM history_writes w WHERE w.thread_id = history_threads.thread_id
        AND w.namespace = history_threads.namespace AND w.checkpoint_ns = ''
        AND w.checkpoint_id = history_threads.head_id AND w.channel = '__interrupt__')
        THEN 'interrupted'
    ELSE 'idle' END;
-- Newest made first (list_threads(sort="created")), and one user's threads newest first.
CREATE INDEX IF NOT EXISTS history_threads_first_at
    ON history_threads (first_at DESC, thread_id, namespace);
CREATE INDEX IF NOT EXISTS history_threads_user_id
    ON history_threads (user_id, last_at DESC, thread_id, namespace);
