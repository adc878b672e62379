"""Benchmarks: ours against LangGraph's checkpoint savers. Run them with `scripts/bench`
(`python -m scripts.benchmarks`; `--help` lists the options).

Modules, bottom up (each imports only the ones above it in this list):

- graphs.py: what the benchmarks run: the chat graph (a fake, deterministic model with a tool
  call every third turn) and savers that time their puts, SQLite and PostgreSQL.
- common.py: what they share: Metric and its table, verdicts and JSON, the header line, the
  bytes of a SQLite file, the git revision of saver/, and the same chat run turn by turn on two
  savers with every timed read alternating between them.
- databases.py: the PostgreSQL server (SAVER_BENCH_POSTGRES_URL, else the tests' server or the
  local one) and fresh databases on it, dropped afterwards.
- chat.py: SQLite, one chat on each saver: put latency, chat time, bytes on disk, listing the
  history and get_tuple (`--backend sqlite`).
- postgres.py: PostgreSQL: the same chat on one connection, then turns per second from asyncio
  tasks and from OS threads on connection pools, with where the time goes (`--backend postgres`).
- retention.py: how fast cleanup(keep_last=10) deletes on SQLite and PostgreSQL, and how long
  a writer waits meanwhile (`--backend retention`).
- storage.py: bytes on disk of a growing conversation, deltas against whole values, put time as
  the thread grows (`--backend storage`, `--plot`).
- drivers.py: asyncpg against psycopg under our AsyncPostgresSaver, client CPU and latency per
  chat turn, with LangGraph's saver and InMemorySaver (`--backend drivers`).
- scale.py: per-thread calls on databases of 10^3 to 10^6 checkpoints (`--scale`, `--levels`,
  `--calls`).
- __main__.py: the entry point, main(): runs the ones the options choose.
"""
