"""Fenced detections: a write that only happens while this instance still owns the stream
under the epoch of its grant (README, "Fenced detections").

The database function ``<DB_SCHEMA>.holds(stream_id, instance_id, epoch)`` locks the stream's
assignment row for share in the caller's transaction, so the orchestrator's grant of the
stream to another instance waits for that transaction, and the old epoch fails after it. A
``Fence`` puts that call in a worker's own statement, in its driver's placeholder style:

    fence = Fence.of(stream, client.instance_id)
    written = await fence.execute(conn,
        "INSERT INTO radio.music_log (stream_id, song) SELECT $1, $2 WHERE {holds}", stream.id, song)

``{holds}`` becomes the call, its three parameters numbered after the statement's own
(asyncpg's ``$n``) or inserted at its place (psycopg's ``%s``). asyncpg (a connection or a
pool) and psycopg 3 (async or not) are recognised by their types, so neither is imported
here and the package does not need them. Any other driver: ``fence.condition(...)`` and
``fence.params``, or the one-line SQL in the README.
"""
from __future__ import annotations

import dataclasses
import inspect
import os
import re
from typing import Any, List, Literal, Optional, Sequence, Tuple

from .stream import Stream

Style = Literal["numeric", "format"]
PLACEHOLDER = "{holds}"
# The orchestrator's own rule for DB_SCHEMA (src/config/config.ts): no quoting needed.
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# psycopg's placeholders (%s, %b, %t) and its escaped percent sign, which is none.
_FORMAT_PLACEHOLDER = re.compile(r"%%|%[sbt]")


def schema_from_env(env: Optional[dict] = None) -> str:
    """``DB_SCHEMA`` (the orchestrator's schema, default ``orchestrator``), checked as the
    orchestrator checks it, since it is written into SQL."""
    schema = (os.environ if env is None else env).get("DB_SCHEMA") or "orchestrator"
    if not _SCHEMA.match(schema):
        raise ValueError(f"DB_SCHEMA must be a lower-case PostgreSQL identifier, got {schema!r}")
    return schema


@dataclasses.dataclass(frozen=True)
class Fence:
    """One stream's grant to this instance, as the database checks it."""

    stream_id: str
    instance_id: str
    epoch: int
    schema: str = "orchestrator"

    def __post_init__(self) -> None:
        if not _SCHEMA.match(self.schema):
            raise ValueError(f"schema must be a lower-case PostgreSQL identifier, got {self.schema!r}")

    @classmethod
    def of(cls, stream: Stream, instance_id: str, schema: Optional[str] = None) -> "Fence":
        """The fence of a stream this instance runs (``on_start``'s argument); ``schema``
        defaults to ``DB_SCHEMA``."""
        return cls(stream.id, instance_id, stream.epoch, schema or schema_from_env())

    @property
    def params(self) -> Tuple[str, str, int]:
        return (self.stream_id, self.instance_id, self.epoch)

    def condition(self, style: Style = "numeric", first: int = 1) -> str:
        """The SQL condition: ``numeric`` numbers its parameters ``$first`` on (asyncpg,
        PostgreSQL's own), ``format`` uses ``%s`` (psycopg, whose parameters go by position)."""
        if style == "numeric":
            marks = [f"${first + i}" for i in range(3)]
        elif style == "format":
            marks = ["%s"] * 3
        else:
            raise ValueError(f"style must be 'numeric' or 'format', got {style!r}")
        return f"{self.schema}.holds({', '.join(marks)})"

    def bind(self, style: Style, query: str, args: Sequence[Any]) -> Tuple[str, List[Any]]:
        """``query`` with ``{holds}`` replaced by the condition, and the parameters with the
        fence's in the place that style needs."""
        if query.count(PLACEHOLDER) != 1:
            raise ValueError(f"the query must contain {PLACEHOLDER} exactly once: {query!r}")
        before, after = query.split(PLACEHOLDER)
        if style == "numeric":
            return before + self.condition("numeric", len(args) + 1) + after, [*args, *self.params]
        # Positional: the fence's three go after the statement's placeholders that precede it.
        at = sum(1 for m in _FORMAT_PLACEHOLDER.findall(before) if m != "%%")
        return before + self.condition("format") + after, [*args[:at], *self.params, *args[at:]]

    async def holds(self, conn: Any) -> bool:
        """Whether this instance still owns the stream at this epoch. In a transaction, the
        answer stays true until it ends (the row is locked for share); outside one it may be
        stale at once."""
        style = driver_style(conn)
        query, params = self.bind(style, "SELECT {holds}", [])
        if style == "numeric":
            return bool(await conn.fetchval(query, *params))
        cursor = await _maybe_await(conn.execute(query, params))
        row = await _maybe_await(cursor.fetchone())
        return bool(row[0])

    async def execute(self, conn: Any, query: str, *args: Any) -> int:
        """Runs a write whose condition is ``{holds}``; returns how many rows it wrote (0: the
        stream is no longer this instance's at this epoch, nothing was written). Run it in
        the transaction of everything else that must be fenced with it, and keep that short:
        a grant of the stream waits for it."""
        style = driver_style(conn)
        query, params = self.bind(style, query, args)
        if style == "numeric":
            status: str = await conn.execute(query, *params)  # e.g. "INSERT 0 1"
            count = status.rsplit(" ", 1)[-1]
            return int(count) if count.isdigit() else 0
        cursor = await _maybe_await(conn.execute(query, params))
        return max(cursor.rowcount, 0)

    def holds_sync(self, conn: Any) -> bool:
        """``holds`` for a synchronous psycopg connection (a threaded worker)."""
        query, params = self.bind(_sync_style(conn), "SELECT {holds}", [])
        row = conn.execute(query, params).fetchone()
        return bool(row[0])

    def execute_sync(self, conn: Any, query: str, *args: Any) -> int:
        """``execute`` for a synchronous psycopg connection (a threaded worker)."""
        query, params = self.bind(_sync_style(conn), query, args)
        return max(conn.execute(query, params).rowcount, 0)


def driver_style(conn: Any) -> Style:
    """The placeholder style of a connection's driver, by the module its type comes from."""
    module = type(conn).__module__
    if module.startswith("asyncpg"):
        return "numeric"
    if module.startswith("psycopg"):
        return "format"
    raise TypeError(f"not an asyncpg or psycopg connection: {type(conn).__qualname__} from {module}; "
                    "use Fence.condition() and Fence.params with your driver")


def _sync_style(conn: Any) -> Style:
    if driver_style(conn) != "format" or inspect.iscoroutinefunction(conn.execute):
        raise TypeError("the *_sync methods take a synchronous psycopg connection; await holds()/execute() otherwise")
    return "format"


async def _maybe_await(value: Any) -> Any:
    # psycopg's AsyncConnection.execute and AsyncCursor.fetchone are coroutines; the sync ones are not.
    return await value if inspect.isawaitable(value) else value
