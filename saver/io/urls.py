"""What a PostgreSQL URL says beyond libpq: `?schema=` and `?prepare_threshold=`, taken out
before psycopg sees the URL (libpq refuses query parameters it does not know). Shared by
`from_conn_string` and the command line."""

from __future__ import annotations

from typing import Literal
from urllib.parse import unquote

from saver.errors import InvalidConfigError
from saver.io.errors import redact

# psycopg's prepare_threshold, or AUTO: prepare every statement (0) unless a connection
# pooler stands between the saver and the server, then never (None).
AUTO: Literal["auto"] = "auto"
PrepareThreshold = int | None | Literal["auto"]
SCHEMES = ("postgresql://", "postgres://")


def scheme_of(url: str) -> str:
    """`sqlite`, `postgresql`, `postgres`...: what a URL starts with, lower case ("" if none)."""
    return url.split("://", 1)[0].lower() if "://" in url else ""


def take_params(url: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """Take the query parameters `names` out of `url`, each given at most once, and leave the
    rest as written. (By hand: urlunsplit turns `postgresql:///db` into `postgresql:/db`, and
    re-encoding could change what libpq reads.)"""
    base, _, query = url.partition("?")
    kept: list[str] = []
    taken: dict[str, str] = {}
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        name = unquote(key)
        if name not in names:
            kept.append(part)
        elif name in taken:
            raise InvalidConfigError(f"{redact(url)!r}: give ?{name}= once")
        else:
            taken[name] = unquote(value)
    if not taken:
        return url, {}
    return (f"{base}?{'&'.join(kept)}" if kept else base), taken


def split_schema(url: str) -> tuple[str, str | None]:
    """Take `?schema=name` out of a PostgreSQL URL: the URL libpq can read, and the schema."""
    wrong = InvalidConfigError(
        f"{redact(url)!r}: give ?schema= once, with a name (letters, digits, _)"
    )
    try:
        conn_string, taken = take_params(url, ("schema",))
    except InvalidConfigError:
        raise wrong from None
    if taken.get("schema") == "":
        raise wrong
    return conn_string, taken.get("schema")


def parse_prepare_threshold(text: str, url: str) -> PrepareThreshold:
    """`none` (never prepare: what pgbouncer's transaction pooling needs), `auto`, or a
    number of executions after which psycopg prepares a statement (0: at once)."""
    word = text.strip().lower()
    if word == "none":
        return None
    if word == AUTO:
        return AUTO
    if word.isdigit():
        return int(word)
    raise InvalidConfigError(
        f"{redact(url)!r}: ?prepare_threshold= takes none, auto or a number, got {text!r}"
    )


def postgres_options(
    conn_string: str, schema: str | None, prepare_threshold: PrepareThreshold
) -> tuple[str, str | None, PrepareThreshold]:
    """The conn string psycopg gets, the schema and the prepare threshold, from a URL's
    `?schema=` and `?prepare_threshold=` and the arguments beside it. A URL parameter and an
    argument that say different things are an error: neither silently wins. (A key=value
    conn string is left as it is.)"""
    if not conn_string.lower().startswith(SCHEMES):
        return conn_string, schema, prepare_threshold
    plain, taken = take_params(conn_string, ("schema", "prepare_threshold"))
    if "schema" in taken:
        from_url = taken["schema"]
        if from_url == "":
            raise InvalidConfigError(
                f"{redact(conn_string)!r}: ?schema= needs a name (letters, digits, _)"
            )
        if schema is not None and schema != from_url:
            raise InvalidConfigError(
                f"schema={schema!r} and the URL's ?schema={from_url} disagree; give one"
            )
        schema = from_url
    if "prepare_threshold" in taken:
        from_url_threshold = parse_prepare_threshold(taken["prepare_threshold"], conn_string)
        if prepare_threshold != AUTO and prepare_threshold != from_url_threshold:
            raise InvalidConfigError(
                f"prepare_threshold={prepare_threshold!r} and the URL's "
                f"?prepare_threshold={taken['prepare_threshold']} disagree; give one"
            )
        prepare_threshold = from_url_threshold
    return plain, schema, prepare_threshold
