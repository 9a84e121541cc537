"""Dialect helpers shared by the repositories."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    CursorResult,
    Executable,
    String,
    bindparam,
    cast,
    column,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.settings import utc
from storage.inline_sqlite import InlineSqlite

S = TypeVar("S")


def insert_for(session: AsyncSession, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on the session's dialect."""
    return _insert_of(session.get_bind().dialect.name)(table)


def _insert_of(name: str) -> Any:
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"unsupported database dialect {name!r}")


def id_list(insert: Any) -> Any:
    """A table of the ids in bindparam "ids" (column `value`): PostgreSQL unnests an array,
    SQLite reads a JSON array. One statement whatever the count, compiled once."""
    if insert is postgresql.insert:
        ids = bindparam("ids", type_=postgresql.ARRAY(BigInteger))
        return func.unnest(ids).table_valued("value").render_derived()
    return func.json_each(bindparam("ids", type_=String)).table_valued("value")


def ids_param(session: AsyncSession, ids: Sequence[int]) -> Any:
    """The value for id_list's "ids" on the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return list(ids)
    return json.dumps(list(ids))


def json_rows(insert: Any, *columns: Column[Any]) -> Any:
    """A SELECT of `columns` (by name and type) from bindparam "rows": a JSON array with an
    object per row (see rows_param). PostgreSQL reads it with json_to_recordset, SQLite
    with json_each: a batch of any size is one statement with one parameter, compiled once,
    where executemany processes every value of every row in Python first."""
    if insert is postgresql.insert:
        rows = (
            func.json_to_recordset(cast(bindparam("rows", type_=String), JSON))
            .table_valued(*(column(c.name, c.type) for c in columns))
            .render_derived(with_types=True)
        )
        return select(*(rows.c[c.name] for c in columns))
    each = func.json_each(bindparam("rows", type_=String)).table_valued("value")
    return select(
        *(func.json_extract(each.c.value, f"$.{c.name}", type_=c.type).label(c.name)
          for c in columns)
    ).where(each.c.value.is_not(None))  # SQLite's upsert after a SELECT needs a WHERE  # fmt: skip


def rows_param(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> str:
    """The value for json_rows' "rows": times and days written as the database stores them
    (on SQLite, SQLAlchemy's own text form, so they compare with what it wrote elsewhere)."""
    encode = _encoder(session.get_bind().dialect)
    return json.dumps(rows, default=encode, separators=(",", ":"), ensure_ascii=False)


def encoder(session: AsyncSession) -> Callable[[Any], Any]:
    """Times and days as the session's database stores them (see rows_param)."""
    return _encoder(session.get_bind().dialect)


def _encoder(dialect: Dialect) -> Callable[[Any], Any]:
    if dialect.name == "sqlite":
        return _sqlite_text
    if dialect.name == "postgresql":
        return _iso_text
    raise NotImplementedError(f"unsupported database dialect {dialect.name!r}")


def _iso_text(value: Any) -> Any:
    """PostgreSQL reads ISO 8601 (times in UTC, with their offset)."""
    if isinstance(value, dt.datetime):
        return utc(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in a JSON row")


def _sqlite_text(value: Any) -> Any:
    """What SQLAlchemy's SQLite DATETIME and DATE bind processors write (UTC, naive), without
    their per-value format dict: an activity batch encodes two times per message. A test
    holds it to theirs on generated values."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is dt.UTC:  # most times (Telegram's, the clock's): one call
            return value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(" ", "microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} in a JSON row")


SQLITE_ROWS_PER_STATEMENT = 50
R = TypeVar("R")


def per_statement(session: AsyncSession, rows: Sequence[R]) -> list[Sequence[R]]:
    """Rows split into the statements that write them. PostgreSQL: one statement, one round
    trip. SQLite: its statements run on the loop's thread (storage/inline_sqlite.py), and a
    statement cannot yield to the loop: at most SQLITE_ROWS_PER_STATEMENT rows each (about a
    millisecond), so an activity batch of hundreds never holds the loop for one long step."""
    if session.get_bind().dialect.name != "sqlite" or len(rows) <= SQLITE_ROWS_PER_STATEMENT:
        return [rows]
    n = SQLITE_ROWS_PER_STATEMENT
    return [rows[start : start + n] for start in range(0, len(rows), n)]


_NAMED = sqlite.dialect(paramstyle="named")


@dataclass(frozen=True)
class SqliteStatement:
    """A Core statement compiled once into sqlite3's own SQL: what SQLAlchemy would send,
    run on the driver (Repository.driver) without SQLAlchemy's per-statement work (about
    0.2 ms each, several times a short statement on the loop's thread). The statement stays
    the one home of its SQL; this is only its compiled form."""

    sql: str
    fixed: dict[str, Any]  # the literals and the columns' scalar defaults, bound already
    processors: dict[str, Callable[[Any], Any]]  # the binds' types (times as SQLite text)

    def params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The fixed values and `values`, each converted as SQLAlchemy would."""
        out = dict(self.fixed)
        for name, value in values.items():
            process = self.processors.get(name)
            out[name] = value if process is None or value is None else process(value)
        return out


def sqlite_statement(statement: Any) -> SqliteStatement:
    """`statement` (built with sqlite.insert) compiled for sqlite3's named parameters."""
    compiled = statement.compile(dialect=_NAMED)
    return SqliteStatement(compiled.string, *_binds(compiled, _NAMED))


def _binds(compiled: Any, dialect: Any) -> tuple[dict[str, Any], dict[str, Callable[[Any], Any]]]:
    """A compiled statement's fixed values (literals, scalar column defaults: converted
    already) and its binds' conversions, as SQLAlchemy would apply them for `dialect`."""
    processors: dict[str, Callable[[Any], Any]] = {}
    fixed: dict[str, Any] = {}
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
        if bind.value is not None and not bind.required:
            fixed[name] = bind.value
    for column_ in compiled.insert_prefetch:  # defaults SQLAlchemy fills in Python
        if column_.default is None or not column_.default.is_scalar:
            raise ValueError(f"{column_.key}: only a scalar default can be compiled in")
        fixed[column_.key] = column_.default.arg
    for name, value in fixed.items():
        if name in processors:
            fixed[name] = processors[name](value)
    return fixed, processors


_ASYNCPG = pg_asyncpg.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class AsyncpgStatement:
    """A Core statement compiled once into asyncpg's SQL ($n parameters), for
    `exec_driver_sql`: no compiled-cache lookup or parameter processing per call, and,
    unlike a statement on asyncpg itself, SQLAlchemy still sees its errors (a connection
    that died under it is dropped from the pool). Like SqliteStatement, only the statement's
    compiled form."""

    sql: str
    names: tuple[str, ...]  # the parameters in their $n order
    fixed: dict[str, Any]
    processors: dict[str, Callable[[Any], Any]]

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """The values in $n order, each converted as SQLAlchemy would (a value given wins
        over a fixed one, as in SqliteStatement.params)."""
        out = []
        for name in self.names:
            if name not in values:
                out.append(self.fixed[name])
                continue
            value, process = values[name], self.processors.get(name)
            out.append(value if process is None or value is None else process(value))
        return out


def asyncpg_statement(statement: Any) -> AsyncpgStatement:
    """`statement` (built with postgresql.insert) compiled for asyncpg."""
    compiled = statement.compile(dialect=_ASYNCPG)
    return AsyncpgStatement(
        compiled.string, tuple(compiled.positiontup), *_binds(compiled, _ASYNCPG)
    )


def prepared(build: Callable[[Any], S]) -> Callable[[AsyncSession], S]:
    """A hot-path statement built once per dialect from `build(insert)` and then reused.

    `insert` is the dialect's INSERT (with ON CONFLICT). Values come in as bindparams, so
    the same statement object serves every call: SQLAlchemy keeps its cache key and its
    compiled form, where a statement built per call costs a rebuild and a re-key each time
    (about four times the cost of running it on SQLite).
    """
    built: dict[str, S] = {}

    def get(session: AsyncSession) -> S:
        name = session.get_bind().dialect.name
        statement = built.get(name)
        if statement is None:
            statement = built[name] = build(_insert_of(name))
        return statement

    return get


def dollar_params(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` placeholders as asyncpg's `$n`, and the names in their order (a name used
    twice is one parameter)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", number, sql), tuple(names)


class Repository:
    """A repository works inside the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def run(
        self,
        statement: Executable,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    ) -> CursorResult[Any]:
        """Run a Core statement on the transaction's connection: the hot paths skip the ORM
        session's per-statement work (their statements touch no ORM-loaded objects)."""
        connection = await self.session.connection()
        return await connection.execute(statement, params)

    async def driver(self) -> Any | None:
        """The database driver's own connection, inside this transaction once it has begun,
        where a statement can run on it from the loop: asyncpg's, or sqlite3's under an
        InlineSqlite (storage/inline_sqlite.py). None otherwise (callers then go through
        SQLAlchemy).

        For the hottest statements only: SQLAlchemy's async layer costs about 0.1 ms of CPU
        per statement (greenlet switches, result set-up), several times a short SQLite
        statement, and the caller writes the driver's SQL and converts values itself.
        """
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if isinstance(driver, InlineSqlite):
            return driver.sqlite  # BEGIN ran when the session took the connection
        if self.session.get_bind().dialect.name == "postgresql":
            # SQLAlchemy's asyncpg adapter begins on its first statement (and holds the
            # asyncpg transaction from then on): until then a statement on asyncpg would
            # run outside the transaction.
            begun = getattr(raw.dbapi_connection, "_transaction", None) is not None
            return driver if begun else None
        return None

    async def inline_sqlite(self) -> InlineSqlite | None:
        """The transaction's InlineSqlite (storage/inline_sqlite.py), if it runs on one."""
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        return driver if isinstance(driver, InlineSqlite) else None


def aware(at: dt.datetime | None) -> dt.datetime | None:
    """Databases hand back naive or offset datetimes; the domain wants UTC-aware ones."""
    return utc(at) if at is not None else None
