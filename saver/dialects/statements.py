"""Every statement the savers run, written once as SQL. `Dialect.render` fills in the fields:

- tables: `{checkpoints}`, `{blobs}`, `{writes}`, `{threads}`, `{migrations}` (PostgreSQL may
  put them in a schema); `{json}` a JSON parameter; `{empty_object}` an empty JSON object.
- `{x:arg}` a hook of the dialect applied to `arg`: `{in_list:thread_id}` (the column is one
  of a JSON list parameter's values), `{unpack:2}` (a JSON list of pairs as rows),
  `{is_object:col}`, `{readable:col}` (the column, or an empty object when it is not one),
  `{json_text:col}`, `{entries:expr}` (FROM item `j` of the object's keys and values),
  `{byte_length:col}`, `{counters:col}` (the DeltaChannel counters in a metadata column),
  `{graph_metadata:col}` (what the lineage logic reads of a metadata column), `{step:col}`
  (a metadata column's step, as text).
- `{pin} table t {on} condition {end:t}`: one probe of `table` by its index per row of what
  precedes it, whatever the planner guesses of the rows before (SQLite: `CROSS JOIN ... ON`;
  PostgreSQL: `CROSS JOIN LATERAL (SELECT ... OFFSET 0) AS t`). `{end_one:t}` when the
  condition names one row (its whole key). `{ordered_join}`: a join whose left side stays
  the outer loop.
- `{name}` of another entry of FRAGMENTS: that fragment, rendered the same way.

Parameters are `?`; the dialect turns them into its driver's style. `docs/sql/` holds every
statement as each dialect renders it (scripts/render_sql.py).
"""

from __future__ import annotations

CHECKPOINT_COLUMNS = (
    "thread_id, namespace, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, "
    "checkpoint, blob_versions, metadata, run_id, created_at"
)
BLOB_COLUMNS = "thread_id, namespace, checkpoint_ns, channel, version, format, type, data, base"
THREAD_COLUMNS = "thread_id, namespace, head_id, checkpoints, first_at, last_at, metadata, status"
# What the user set on a thread (put_thread): copied, exported and imported with it.
RECORD_COLUMNS = "name, user_id, info"
WRITE_COLUMNS = (
    "thread_id, namespace, checkpoint_ns, checkpoint_id, task_id, idx, task_path, channel, "
    "type, data"
)

# --- schema ----------------------------------------------------------------------------------

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS {migrations} (
    version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)
"""
SELECT_SCHEMA_VERSION = "SELECT MAX(version) FROM {migrations}"
INSERT_SCHEMA_VERSION = "INSERT INTO {migrations} (version, applied_at) VALUES (?, ?)"

# --- put, put_writes -------------------------------------------------------------------------

UPSERT_CHECKPOINT = f"""
INSERT INTO {{checkpoints}} ({CHECKPOINT_COLUMNS})
VALUES (?, ?, ?, ?, ?, ?, ?, {{json}}, {{json}}, ?, ?)
ON CONFLICT (thread_id, namespace, checkpoint_ns, checkpoint_id) DO UPDATE SET
    parent_checkpoint_id = excluded.parent_checkpoint_id, type = excluded.type,
    checkpoint = excluded.checkpoint, blob_versions = excluded.blob_versions,
    metadata = excluded.metadata, run_id = excluded.run_id
"""
# `{rows}`: one row of placeholders, or several (PostgreSQL sends a put's blobs in one).
INSERT_BLOB = f"""
INSERT INTO {{blobs}} ({BLOB_COLUMNS}) VALUES {{rows}}
ON CONFLICT DO NOTHING
"""
# Special writes (errors, interrupts) replace; regular ones keep the first.
UPSERT_WRITE = f"""
INSERT INTO {{writes}} ({WRITE_COLUMNS}) VALUES {{rows}}
ON CONFLICT (thread_id, namespace, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE SET
    task_path = excluded.task_path, channel = excluded.channel, type = excluded.type,
    data = excluded.data
"""
INSERT_WRITE = f"""
INSERT INTO {{writes}} ({WRITE_COLUMNS}) VALUES {{rows}}
ON CONFLICT DO NOTHING
"""
# A put of a root checkpoint, before its row is written: the thread's row follows its newest
# checkpoint and counts it, unless it is stored already (a put again), when it keeps the
# time stored with it. A thread made by put_thread before its first checkpoint keeps the
# time it was made. Its status: an error or interrupt() already written on the checkpoint
# (LangGraph may write before the put lands), else whether it has tasks left (the parameter).
UPSERT_THREAD = f"""
INSERT INTO {{threads}} ({THREAD_COLUMNS})
SELECT h.thread_id, h.namespace, h.checkpoint_id,
    CASE WHEN old.created_at IS NULL THEN 1 ELSE 0 END,
    COALESCE(old.created_at, ?), COALESCE(old.created_at, ?), {{json}}, {{head_status}}
FROM (SELECT CAST(? AS TEXT) AS thread_id, CAST(? AS TEXT) AS namespace,
    CAST(? AS TEXT) AS checkpoint_id) AS h
LEFT JOIN {{checkpoints}} old ON old.thread_id = h.thread_id AND old.namespace = h.namespace
    AND old.checkpoint_ns = '' AND old.checkpoint_id = h.checkpoint_id
WHERE 1 = 1
ON CONFLICT (thread_id, namespace) DO UPDATE SET
    checkpoints = history_threads.checkpoints + excluded.checkpoints,
    head_id = CASE WHEN excluded.head_id >= history_threads.head_id
        THEN excluded.head_id ELSE history_threads.head_id END,
    metadata = CASE WHEN excluded.head_id >= history_threads.head_id
        THEN excluded.metadata ELSE history_threads.metadata END,
    status = CASE WHEN excluded.head_id >= history_threads.head_id
        THEN excluded.status ELSE history_threads.status END,
    first_at = CASE WHEN excluded.first_at < history_threads.first_at
        THEN excluded.first_at ELSE history_threads.first_at END,
    last_at = CASE WHEN excluded.last_at > history_threads.last_at
        THEN excluded.last_at ELSE history_threads.last_at END
"""
# An interrupt() or an error written on the thread's head is its status until the next put
# (an error stays over an interrupt another task wrote, as the put reads them).
SET_HEAD_STATUS = """
UPDATE {threads} SET status = CASE WHEN status = 'error' THEN status ELSE ? END
WHERE thread_id = ? AND namespace = ? AND head_id = ?
"""
SELECT_LATEST_ID = """
SELECT MAX(checkpoint_id) FROM {checkpoints}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?
"""

# --- one thread: delete, copy, count, its graph ----------------------------------------------

DELETE_THREAD_FROM = "DELETE FROM {table} WHERE thread_id = ? AND namespace = ?"
COPY_THREAD_IN = """
INSERT INTO {table} (thread_id, {columns}) SELECT ?, {columns} FROM {table}
WHERE thread_id = ? AND namespace = ?
"""
COUNT_THREAD = "SELECT COUNT(*) FROM {checkpoints} WHERE thread_id = ? AND namespace = ?"
SELECT_RUN_CHECKPOINTS = """
SELECT thread_id, checkpoint_ns, checkpoint_id FROM {checkpoints}
WHERE namespace = ? AND {in_list:run_id}
"""
SELECT_THREAD_GRAPH = """
SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id, {json_text:blob_versions},
    created_at, {graph_metadata:metadata}
FROM {checkpoints} WHERE thread_id = ? AND namespace = ?
"""
SELECT_THREAD_BLOB_KEYS = """
SELECT checkpoint_ns, channel, version, base FROM {blobs}
WHERE thread_id = ? AND namespace = ?
"""
# One namespace's checkpoints as parent links and steps (core/messages.py walks the head's
# lineage).
SELECT_LINEAGE = """
SELECT checkpoint_id, parent_checkpoint_id, {step:metadata} FROM {checkpoints}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?
"""
SELECT_TASK_PATHS = """
SELECT DISTINCT checkpoint_id, task_id, task_path FROM {writes}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?
"""
# Every write of one namespace without its value: which task wrote which channel, in the
# order a checkpoint's pending writes come (core/writes.py sort_key).
SELECT_WRITE_CHANNELS = """
SELECT checkpoint_id, task_id, task_path, idx, channel FROM {writes}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?
"""
# One namespace's checkpoints without a channel value: a history's rows, read cheaply
# (core/threads.py: steps).
SELECT_STEPS = """
SELECT checkpoint_id, parent_checkpoint_id, type, checkpoint, {json_text:blob_versions},
    {json_text:metadata}
FROM {checkpoints} WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?
ORDER BY checkpoint_id DESC
"""
# The stored values of the channels that start a task: a step whose versions name one of
# these runs that task next.
SELECT_TRIGGER_BLOBS = """
SELECT channel, version FROM {blobs}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?
    AND (channel = '__start__' OR substr(channel, 1, 10) = 'branch:to:')
"""
# A thread's rows as they are stored (core/threads.py: export, import, copy across).
EXPORT_CHECKPOINTS = """
SELECT thread_id, namespace, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type,
    checkpoint, {json_text:blob_versions}, {json_text:metadata}, run_id, created_at
FROM {checkpoints} WHERE thread_id = ? AND namespace = ?
ORDER BY checkpoint_ns, checkpoint_id
"""
EXPORT_BLOBS = f"""
SELECT {BLOB_COLUMNS} FROM {{blobs}} WHERE thread_id = ? AND namespace = ?
ORDER BY checkpoint_ns, channel, version
"""
EXPORT_WRITES = f"""
SELECT {WRITE_COLUMNS} FROM {{writes}} WHERE thread_id = ? AND namespace = ?
ORDER BY checkpoint_ns, checkpoint_id, task_id, idx
"""

# --- saver doctor (core/doctor.py) -----------------------------------------------------------

# The next thread ids after one that have a row in any table: each table's next N first, so
# a page reads N threads' index entries per table wherever it starts.
SELECT_ANY_THREAD_IDS = """
SELECT thread_id FROM (
    SELECT thread_id FROM (SELECT DISTINCT thread_id FROM {checkpoints}
        WHERE namespace = ? AND thread_id > ? ORDER BY thread_id LIMIT ?) AS c
    UNION SELECT thread_id FROM (SELECT DISTINCT thread_id FROM {blobs}
        WHERE namespace = ? AND thread_id > ? ORDER BY thread_id LIMIT ?) AS b
    UNION SELECT thread_id FROM (SELECT DISTINCT thread_id FROM {writes}
        WHERE namespace = ? AND thread_id > ? ORDER BY thread_id LIMIT ?) AS w
) AS ids ORDER BY thread_id LIMIT ?
"""
SELECT_QUARANTINED_CHECKPOINTS = """
SELECT checkpoint_ns, checkpoint_id FROM {quarantine}
WHERE thread_id = ? AND namespace = ? AND source = 'checkpoint'
"""
QUARANTINE_ROW = """
INSERT INTO {quarantine} (thread_id, namespace, checkpoint_ns, checkpoint_id, source, row_key,
    quarantined_at, problem, stored_row)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (thread_id, namespace, checkpoint_ns, checkpoint_id, source, row_key) DO UPDATE SET
    quarantined_at = excluded.quarantined_at, problem = excluded.problem,
    stored_row = excluded.stored_row
"""
DELETE_WRITE_BY = """
DELETE FROM {writes} WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?
    AND checkpoint_id = ? AND task_id = ? AND idx = ?
"""

# --- pruning one thread: by key (run once per key, many=True) or by list ---------------------

DELETE_WRITES_BY = """
DELETE FROM {writes}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ? AND checkpoint_id = ?
"""
DELETE_CHECKPOINTS_BY = """
DELETE FROM {checkpoints}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ? AND checkpoint_id = ?
"""
DELETE_BLOBS_BY = """
DELETE FROM {blobs}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ? AND channel = ? AND version = ?
"""
DELETE_CHECKPOINTS = """
DELETE FROM {checkpoints} WHERE thread_id = ? AND namespace = ?
    AND (checkpoint_ns, checkpoint_id) IN ({unpack:2})
"""
DELETE_WRITES_OF = """
DELETE FROM {writes} WHERE thread_id = ? AND namespace = ?
    AND (checkpoint_ns, checkpoint_id) IN ({unpack:2})
"""
DELETE_BLOBS = """
DELETE FROM {blobs} WHERE thread_id = ? AND namespace = ?
    AND (checkpoint_ns, channel, version) IN ({unpack:3})
"""

# --- loading a checkpoint's blobs (get_delta_channel_history, a page's fallbacks) ------------

SELECT_ANCESTORS = """
WITH RECURSIVE chain(checkpoint_id, parent_checkpoint_id, blob_versions, depth) AS (
    SELECT checkpoint_id, parent_checkpoint_id, blob_versions, 0 FROM {checkpoints}
    WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ? AND checkpoint_id = ?
    UNION ALL
    SELECT p.checkpoint_id, p.parent_checkpoint_id, p.blob_versions, chain.depth + 1
    FROM chain {ordered_join} {checkpoints} p ON p.thread_id = ? AND p.namespace = ?
        AND p.checkpoint_ns = ? AND p.checkpoint_id = chain.parent_checkpoint_id
    WHERE chain.depth < 1000000
)
SELECT checkpoint_id, parent_checkpoint_id, {json_text:blob_versions} FROM chain
"""
SELECT_BLOB_KEYS_AMONG = """
SELECT channel, version FROM {blobs}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?
    AND (channel, version) IN ({unpack:2})
"""
SELECT_BLOBS = """
WITH wanted AS (
    SELECT b.thread_id, b.namespace, b.checkpoint_ns, b.channel, b.version FROM {blobs} b
    WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?
        AND (b.channel, b.version) IN ({unpack:2})
), {chains}
SELECT b.channel, b.version, b.format, b.type, b.data, b.base
FROM needed k {ordered_join} {blobs} b ON {same_blob}
"""
SELECT_CHANNEL_WRITES = """
SELECT checkpoint_id, task_id, idx, task_path, channel, type, data FROM {writes}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ?
    AND {in_list:checkpoint_id} AND {in_list:channel}
"""

# --- pages of checkpoints (get_tuple, list), in the row shape rows.TupleReader reads ----------

# The page's rows ('c'), the blobs they use ('b', from `{blob_rows}`) and their writes ('w').
SELECT_PAGE = """
WITH page AS MATERIALIZED (
    SELECT thread_id, namespace, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type,
        checkpoint, metadata, blob_versions, created_at
    FROM {checkpoints} WHERE {where} ORDER BY {order} LIMIT {limit}
), {ctes}
SELECT 'c', thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,
    CASE WHEN {is_object:blob_versions} THEN '1' ELSE '' END, created_at, type, checkpoint,
    {json_text:metadata}, {json_text:blob_versions}
FROM page
UNION ALL {blob_rows}
UNION ALL
SELECT 'w', w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.task_path, w.idx,
    w.type, w.data, w.channel, NULL
FROM page p {pin} {writes} w {on} w.thread_id = p.thread_id AND w.namespace = p.namespace
    AND w.checkpoint_ns = p.checkpoint_ns AND w.checkpoint_id = p.checkpoint_id {end:w}
"""
# Checkpoints of a page of several share blobs (a version unchanged between them, a chain's
# snapshot and deltas): the keys are gathered and made unique first, then read.
MANY_CTES = """
wanted AS (
    SELECT DISTINCT p.thread_id, p.namespace, p.checkpoint_ns, j.key AS channel,
        j.value AS version
    FROM page p, {entries_readable:p.blob_versions}
), {chains}
"""
MANY_BLOB_ROWS = """
SELECT 'b', b.thread_id, b.checkpoint_ns, b.channel, b.version, b.base, b.format, b.type,
    b.data, NULL, NULL
FROM needed k {pin} {blobs} b {on} {same_blob} {end_one:b}
"""
# One checkpoint names each channel once, and a channel's chain rows are its own: nothing
# to make unique, so each blob row is read once, where it is found.
ONE_CTES = """
heads AS MATERIALIZED (
    SELECT x.namespace, x.thread_id, x.checkpoint_ns, x.channel, x.version, x.base,
        x.format, x.type, x.data
    FROM page p, {entries_readable:p.blob_versions}
    {pin} {blobs} x {on} x.thread_id = p.thread_id AND x.namespace = p.namespace
        AND x.checkpoint_ns = p.checkpoint_ns AND x.channel = j.key AND x.version = j.value
    {end_one:x}
)
"""
ONE_BLOB_ROWS = """
SELECT 'b', thread_id, checkpoint_ns, channel, version, base, format, type, data, NULL, NULL
FROM heads
UNION ALL
SELECT 'b', x.thread_id, x.checkpoint_ns, x.channel, x.version, x.base, x.format, x.type,
    x.data, NULL, NULL
FROM heads h {pin} {blobs} x {on} {same_chain} AND x.version = h.base {end_one:x}
UNION ALL
SELECT 'b', x.thread_id, x.checkpoint_ns, x.channel, x.version, x.base, x.format, x.type,
    x.data, NULL, NULL
FROM heads h {pin} {blobs} x {on} {same_chain} AND x.version > h.base
    AND x.version < h.version AND x.base = h.base {end:x}
"""
# Threads (core/threads.py), newest first (`{newest}`: last_at, or first_at for the newest
# created): a page of history_threads, then whether each
# head waits on an interrupt. A scalar probe per row, not EXISTS: PostgreSQL may answer an
# EXISTS for all rows at once by hashing a scan of every thread's writes.
SELECT_THREADS = """
SELECT t.thread_id, t.checkpoints, t.first_at, t.last_at, t.head_id, {json_text:t.metadata},
    COALESCE((SELECT 1 FROM {writes} x WHERE x.thread_id = t.thread_id
        AND x.namespace = t.namespace AND x.checkpoint_ns = '' AND x.checkpoint_id = t.head_id
        AND x.channel = '__interrupt__' LIMIT 1), 0),
    t.status, t.run_id, t.run_until, t.name, t.user_id, {json_text:t.info}
FROM (
    SELECT thread_id, namespace, head_id, checkpoints, first_at, last_at, metadata, status,
        run_id, run_until, name, user_id, info
    FROM {threads} WHERE {where} ORDER BY {newest} {order}, thread_id LIMIT ? OFFSET ?
) t
ORDER BY t.{newest} {order}, t.thread_id
"""

# How many threads a list_threads filter finds (`{where}`: Dialect.threads_where).
COUNT_THREADS = "SELECT COUNT(*) FROM {threads} WHERE {where}"

# --- cleanup: a batch of threads per statement -----------------------------------------------

SELECT_GRAPHS_OF = """
{of_threads}
SELECT x.thread_id, x.checkpoint_ns, x.checkpoint_id, x.parent_checkpoint_id,
    {json_text:x.blob_versions}, x.created_at, {graph_metadata:x.metadata}
FROM n CROSS JOIN p {pin} {checkpoints} x {on} {thread_of_p} {end:x}
"""
SELECT_BLOB_SIZES_OF = """
{of_threads}
SELECT x.thread_id, x.checkpoint_ns, x.channel, x.version, {byte_length:x.data}, x.base
FROM n CROSS JOIN p {pin} {blobs} x {on} {thread_of_p} {end:x}
"""
SELECT_WRITE_STATS_OF = """
{of_threads}
SELECT x.thread_id, x.checkpoint_ns, x.checkpoint_id, COUNT(*),
    SUM(CASE WHEN x.channel = '__interrupt__' THEN 1 ELSE 0 END)
FROM n CROSS JOIN p {pin} {writes} x {on} {thread_of_p} {end:x}
GROUP BY x.thread_id, x.checkpoint_ns, x.checkpoint_id
"""
DELETE_THREADS_FROM = "DELETE FROM {table} WHERE namespace = ? AND {in_list:thread_id}"
# After checkpoints of these threads went or came in bulk: their rows again from what is
# stored (an upsert, so what the user set stays, and so does the time a thread was made);
# a new head's status from its writes (whether it has tasks left is known only to its put).
REFRESH_THREADS_OF = f"""
INSERT INTO {{threads}} ({THREAD_COLUMNS})
SELECT s.thread_id, s.namespace, s.head_id, s.checkpoints, s.first_at, s.last_at, h.metadata,
    {{head_status}}
FROM (
    SELECT thread_id, namespace, MAX(checkpoint_id) AS head_id, COUNT(*) AS checkpoints,
        MIN(created_at) AS first_at, MAX(created_at) AS last_at
    FROM {{checkpoints}} WHERE namespace = ? AND checkpoint_ns = '' AND {{in_list:thread_id}}
    GROUP BY thread_id, namespace
) s
{{pin}} {{checkpoints}} h {{on}} h.thread_id = s.thread_id AND h.namespace = s.namespace
    AND h.checkpoint_ns = '' AND h.checkpoint_id = s.head_id {{end:h}}
WHERE 1 = 1
ON CONFLICT (thread_id, namespace) DO UPDATE SET
    status = CASE WHEN excluded.head_id = history_threads.head_id
        THEN history_threads.status ELSE excluded.status END,
    head_id = excluded.head_id, checkpoints = excluded.checkpoints,
    first_at = CASE WHEN excluded.first_at < history_threads.first_at
        THEN excluded.first_at ELSE history_threads.first_at END,
    last_at = excluded.last_at, metadata = excluded.metadata
"""
# A thread left without root checkpoints: its row goes, unless the user made it a record
# (put_thread), which stays as a thread with no checkpoint yet.
DELETE_THREADS_WITHOUT_ROOT = """
DELETE FROM {threads} WHERE namespace = ? AND {in_list:thread_id} AND info IS NULL
    AND {without_root}
"""
EMPTY_THREADS_WITHOUT_ROOT = """
UPDATE {threads} SET head_id = '', checkpoints = 0, metadata = {empty_object}, status = 'idle'
WHERE namespace = ? AND {in_list:thread_id} AND info IS NOT NULL AND {without_root}
"""
# --- a thread as a record: what the user set on it, and the run that holds it ----------------

# put_thread (core/threads.py merges the metadata): a new thread is made with no checkpoint.
# Also what an import or a copy brings along, with the time the thread was made.
UPSERT_THREAD_RECORD = f"""
INSERT INTO {{threads}} ({THREAD_COLUMNS}, {RECORD_COLUMNS})
VALUES (?, ?, '', 0, ?, ?, {{empty_object}}, 'idle', ?, ?, {{json}})
ON CONFLICT (thread_id, namespace) DO UPDATE SET
    name = COALESCE(excluded.name, history_threads.name),
    user_id = COALESCE(excluded.user_id, history_threads.user_id),
    info = excluded.info,
    first_at = CASE WHEN excluded.first_at < history_threads.first_at
        THEN excluded.first_at ELSE history_threads.first_at END,
    last_at = CASE WHEN excluded.last_at > history_threads.last_at
        THEN excluded.last_at ELSE history_threads.last_at END
"""
SELECT_THREAD_RECORD = """
SELECT name, user_id, {json_text:info}, first_at FROM {threads}
WHERE thread_id = ? AND namespace = ?
"""
# A run takes a thread (status busy) if no other run holds it, or the holder's lease ran
# out; the same run takes it again to extend its lease. Taking it is activity (so retention
# never finds it idle). A thread with no row yet gets one, until the release.
CLAIM_THREAD = f"""
INSERT INTO {{threads}} ({THREAD_COLUMNS}, run_id, run_until)
VALUES (?, ?, '', 0, ?, ?, {{empty_object}}, 'idle', ?, ?)
ON CONFLICT (thread_id, namespace) DO UPDATE SET
    run_id = excluded.run_id, run_until = excluded.run_until,
    last_at = CASE WHEN excluded.last_at > history_threads.last_at
        THEN excluded.last_at ELSE history_threads.last_at END
WHERE history_threads.run_id IS NULL OR history_threads.run_id = excluded.run_id
    OR history_threads.run_until <= ?
"""
SELECT_THREAD_RUN = "SELECT run_id FROM {threads} WHERE thread_id = ? AND namespace = ?"

# A thread's head checkpoint ('c') and what is written on it ('w'): all that its state is read
# from, so that a reader who saw the same can keep the state it read (saver serve's cache).
SELECT_HEAD_WRITES = """
SELECT 'c', t.head_id, c.checkpoint, {json_text:c.blob_versions}, {json_text:c.metadata}, NULL
FROM {threads} t {pin} {checkpoints} c {on} c.thread_id = t.thread_id
    AND c.namespace = t.namespace AND c.checkpoint_ns = '' AND c.checkpoint_id = t.head_id
    {end_one:c}
WHERE t.thread_id = ? AND t.namespace = ?
UNION ALL
SELECT 'w', w.task_id, w.data, w.channel, w.type, w.idx
FROM {threads} t {pin} {writes} w {on} w.thread_id = t.thread_id
    AND w.namespace = t.namespace AND w.checkpoint_ns = '' AND w.checkpoint_id = t.head_id
    {end:w}
WHERE t.thread_id = ? AND t.namespace = ?
"""
RELEASE_THREAD = """
UPDATE {threads} SET run_id = NULL, run_until = NULL
WHERE thread_id = ? AND namespace = ? AND run_id = ?
"""
# Of these threads, those a run holds (retention never deletes them as idle).
SELECT_HELD_THREADS = """
SELECT thread_id FROM {threads} WHERE namespace = ? AND {in_list:thread_id} AND run_until > ?
"""
# A row the claim made goes with the release if no checkpoint and no record came meanwhile.
DELETE_UNUSED_THREAD = """
DELETE FROM {threads} WHERE thread_id = ? AND namespace = ? AND run_id IS NULL
    AND head_id = '' AND info IS NULL
"""
# A copied or imported head's status, where its writes do not say (REFRESH_THREADS_OF): whether
# it has tasks left, which only its checkpoint tells.
SET_STATUS_IF_IDLE = """
UPDATE {threads} SET status = ?
WHERE thread_id = ? AND namespace = ? AND head_id = ? AND status = 'idle'
"""
# keep_last by range (retention/job.py): per thread and checkpoint_ns, the oldest of the
# newest N (each found by one index seek), the newest time, and how many of the N are
# unreadable or carry DeltaChannel counters (the thread then goes row by row).
SELECT_KEEP_BOUNDS_OF = """
WITH pairs AS (
    SELECT DISTINCT thread_id, checkpoint_ns FROM {checkpoints}
    WHERE namespace = ? AND {in_list:thread_id}
), bounds AS MATERIALIZED (
    SELECT p.thread_id, p.checkpoint_ns, COALESCE((
        SELECT y.checkpoint_id FROM {checkpoints} y WHERE y.thread_id = p.thread_id
            AND y.namespace = ? AND y.checkpoint_ns = p.checkpoint_ns
        ORDER BY y.checkpoint_id DESC LIMIT 1 OFFSET ?), '') AS low
    FROM pairs p
), kept AS (
    SELECT p.thread_id, p.checkpoint_ns, k.checkpoint_id, k.created_at, k.blob_versions,
        k.metadata
    FROM bounds p {pin} {checkpoints} k {on} k.thread_id = p.thread_id AND k.namespace = ?
        AND k.checkpoint_ns = p.checkpoint_ns AND k.checkpoint_id >= p.low {end:k}
)
SELECT thread_id, checkpoint_ns, MIN(checkpoint_id), MAX(created_at),
    SUM(CASE WHEN {is_object:blob_versions} AND {is_object:metadata} THEN 0 ELSE 1 END),
    COUNT({counters:metadata})
FROM kept GROUP BY thread_id, checkpoint_ns
"""
COUNT_BELOW = """
WITH bounds(thread_id, checkpoint_ns, checkpoint_id) AS ({unpack:3})
SELECT (SELECT COUNT(*) FROM bounds k {pin} {checkpoints} x {on} {below_k} {end:x}),
    (SELECT COUNT(*) FROM bounds k {pin} {writes} x {on} {below_k} {end:x})
"""
DELETE_WRITES_BELOW = """
DELETE FROM {writes}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ? AND checkpoint_id < ?
"""
DELETE_CHECKPOINTS_BELOW = """
DELETE FROM {checkpoints}
WHERE thread_id = ? AND namespace = ? AND checkpoint_ns = ? AND checkpoint_id < ?
"""
# The blobs that the threads' remaining checkpoints name (with their chains) no longer:
# equality joins only, so PostgreSQL can hash them. RETURNING counts what went, so the
# costly CTE runs once.
DELETE_UNNAMED_BLOBS_OF = """
WITH named AS MATERIALIZED (
    SELECT k.thread_id, k.checkpoint_ns, j.key AS channel, j.value AS version, (
        SELECT y.base FROM {blobs} y WHERE y.thread_id = k.thread_id
            AND y.namespace = k.namespace AND y.checkpoint_ns = k.checkpoint_ns
            AND y.channel = j.key AND y.version = j.value) AS base
    FROM {checkpoints} k CROSS JOIN {entries:k.blob_versions}
    WHERE k.namespace = ? AND {in_list:k.thread_id}
)
DELETE FROM {blobs} WHERE namespace = ? AND {in_list:thread_id}
    AND NOT EXISTS (SELECT 1 FROM named n WHERE {named_blob} AND n.version = {blobs}.version)
    AND NOT EXISTS (SELECT 1 FROM named n WHERE {named_blob} AND n.base = {blobs}.version)
    AND NOT EXISTS (SELECT 1 FROM named n WHERE {named_blob} AND n.base = {blobs}.base
        AND {blobs}.version < n.version)
RETURNING {byte_length:data}
"""
# The next threads after a thread id, at most N: one primary-key seek per thread, so a page
# costs the same wherever it starts and whatever the planner's statistics say.
SELECT_THREAD_IDS = """
{walk}
SELECT thread_id FROM page ORDER BY thread_id
"""
# Per thread: checkpoints, oldest, newest, and the most in one checkpoint_ns; of one thread
# (`{source}` a row of the parameter) or of a walk's page.
THREAD_STATS = """
{walk}
SELECT thread_id, SUM(n), MIN(oldest), MAX(newest), MAX(n) FROM (
    SELECT p.thread_id, x.checkpoint_ns, COUNT(*) AS n, MIN(x.created_at) AS oldest,
        MAX(x.created_at) AS newest
    FROM {source}
    {pin} {checkpoints} x {on} x.thread_id = p.thread_id AND x.namespace = ? {end:x}
    GROUP BY p.thread_id, x.checkpoint_ns
) AS per_ns
GROUP BY thread_id ORDER BY thread_id
"""

# --- fragments, used by name above -----------------------------------------------------------

FRAGMENTS = {
    # A thread's status from what is written on its head `h` (one probe of its writes; an
    # error over an interrupt), else `{otherwise}`.
    "head_status": """
        CASE (SELECT MIN(CASE w.channel WHEN '__error__' THEN 1 WHEN '__interrupt__' THEN 2 END)
            FROM {writes} w WHERE w.thread_id = h.thread_id AND w.namespace = h.namespace
            AND w.checkpoint_ns = '' AND w.checkpoint_id = h.checkpoint_id)
        WHEN 1 THEN 'error' WHEN 2 THEN 'interrupted' ELSE {otherwise} END
    """,
    # The row of history_threads being changed has no root checkpoint left.
    "without_root": """
        NOT EXISTS (SELECT 1 FROM {checkpoints} x WHERE x.thread_id = history_threads.thread_id
            AND x.namespace = history_threads.namespace AND x.checkpoint_ns = '')
    """,
    "same_blob": """
        b.thread_id = k.thread_id AND b.namespace = k.namespace
        AND b.checkpoint_ns = k.checkpoint_ns AND b.channel = k.channel
        AND b.version = k.version
    """,
    "same_chain": """
        x.thread_id = h.thread_id AND x.namespace = h.namespace
        AND x.checkpoint_ns = h.checkpoint_ns AND x.channel = h.channel
    """,
    # From `wanted` (blob keys) to `needed`: those keys, and for each delta its snapshot and
    # the deltas before it on the same chain (core/deltas.py).
    "chains": """
        heads AS MATERIALIZED (
            SELECT k.thread_id, k.namespace, k.checkpoint_ns, k.channel, k.version, x.base
            FROM wanted k {pin} {blobs} x {on} x.thread_id = k.thread_id
                AND x.namespace = k.namespace AND x.checkpoint_ns = k.checkpoint_ns
                AND x.channel = k.channel AND x.version = k.version {end_one:x}
        ), needed AS (
            SELECT thread_id, namespace, checkpoint_ns, channel, version FROM heads
            UNION
            SELECT thread_id, namespace, checkpoint_ns, channel, base FROM heads
            WHERE base IS NOT NULL
            UNION
            SELECT h.thread_id, h.namespace, h.checkpoint_ns, h.channel, x.version
            FROM heads h {pin} {blobs} x {on} {same_chain} AND x.version > h.base
                AND x.version < h.version AND x.base = h.base {end:x}
            WHERE h.base IS NOT NULL
        )
    """,
    # A batch of threads (parameters: namespace, a JSON list of thread ids) as n and p, to be
    # joined with a probe of the primary key per thread.
    "of_threads": """
        WITH n(namespace) AS (SELECT CAST(? AS TEXT)), p(thread_id) AS ({unpack:1})
    """,
    "thread_of_p": "x.thread_id = p.thread_id AND x.namespace = n.namespace",
    "below_k": """
        x.thread_id = k.thread_id AND x.namespace = ? AND x.checkpoint_ns = k.checkpoint_ns
        AND x.checkpoint_id < k.checkpoint_id
    """,
    "named_blob": """
        n.thread_id = {blobs}.thread_id AND n.checkpoint_ns = {blobs}.checkpoint_ns
        AND n.channel = {blobs}.channel
    """,
    # (`|| ''`: an index on namespace must not look like a shorter way to the next one.)
    "walk": """
        WITH RECURSIVE walk(thread_id, n) AS (
            SELECT (SELECT y.thread_id FROM {checkpoints} y WHERE y.thread_id > ?
                AND y.namespace || '' = ? ORDER BY y.thread_id LIMIT 1), 1
            UNION ALL
            SELECT (SELECT y.thread_id FROM {checkpoints} y WHERE y.thread_id > walk.thread_id
                AND y.namespace || '' = ? ORDER BY y.thread_id LIMIT 1), walk.n + 1
            FROM walk WHERE walk.thread_id IS NOT NULL AND walk.n < ?
        ), page AS (SELECT thread_id FROM walk WHERE thread_id IS NOT NULL)
    """,
}
