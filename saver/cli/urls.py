"""Open a sync saver from a URL, the way every command names its storage."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from saver.errors import InvalidConfigError, StorageError
from saver.io import HistorySaver, SqliteSaver
from saver.io.errors import redact
from saver.io.urls import scheme_of
from saver.io.urls import split_schema as split_schema  # the migrate command's

ENV_URL = "SAVER_URL"
FORMS = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "postgresql://user@host:5432/db or postgres://... (optionally ?schema=name, and "
    "?prepare_threshold=none behind pgbouncer in transaction mode)"
)


def add_url_arguments(parser: argparse.ArgumentParser) -> None:
    """The URL positional (default $SAVER_URL) and --namespace, for a command on one store."""
    parser.add_argument(
        "url",
        nargs="?",
        metavar="URL",
        help=f"where the checkpoints are: {FORMS}; default ${ENV_URL}",
    )
    parser.add_argument(
        "--namespace",
        default="",
        help="the saver namespace to work in (default: the empty namespace)",
    )


def url_from(args: argparse.Namespace) -> str:
    url: str | None = args.url or os.environ.get(ENV_URL)
    if not url:
        raise InvalidConfigError(
            f"no URL given: pass one or set ${ENV_URL}; URLs look like {FORMS}"
        )
    return url


@contextmanager
def open_saver(url: str, *, namespace: str = "", create: bool = False) -> Iterator[HistorySaver]:
    """A SqliteSaver or PostgresSaver for `url`, closed on exit. Without `create`, a SQLite
    file that does not exist is an error rather than a new empty database."""
    scheme = scheme_of(url)
    if scheme == "sqlite":
        path = sqlite_path(url)
        if not create and not Path(path).exists():
            raise StorageError(f"no SQLite database at {path!r} (from {url!r})")
        with SqliteSaver.from_conn_string(path, namespace=namespace) as saver:
            yield _existing(saver, url, create)
    elif scheme in ("postgresql", "postgres"):
        from saver.io import PostgresSaver  # here: a SQLite-only install has no psycopg

        # from_conn_string reads ?schema= and ?prepare_threshold= itself.
        with PostgresSaver.from_conn_string(url, namespace=namespace) as saver:
            yield _existing(saver, url, create)
    else:
        raise InvalidConfigError(f"cannot open {redact(url)!r}: expected {FORMS}")


def _existing(saver: HistorySaver, url: str, create: bool) -> HistorySaver:
    """Without `create`, a database where setup() never ran is an error, not a new schema."""
    if not create and saver.schema_version() is None:
        raise StorageError(f"no saver tables at {redact(url)!r}; check the URL and ?schema=")
    return saver


def sqlite_path(url: str) -> str:
    """`sqlite:///data/h.db` is `data/h.db`, `sqlite:////srv/h.db` is `/srv/h.db`."""
    if not url.lower().startswith("sqlite:///") or len(url) == len("sqlite:///"):
        raise InvalidConfigError(
            f"cannot open {url!r}: a SQLite URL is sqlite:///relative/path.db "
            "or sqlite:////absolute/path.db"
        )
    return url[len("sqlite:///") :]
