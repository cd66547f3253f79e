"""Fast bulk inserts: COPY on PostgreSQL, batched bulk_create elsewhere.

On this kind of machine COPY writes about 224,000 rows/s against 28,000 for
bulk_create (DESIGN.md), which is what lets a 1,000,000-door import finish in
under a minute. Rows are tuples in the order of `fields` (column attnames,
e.g. "door_id").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models

BATCH_SIZE = 2000


def bulk_insert(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[object]], *, plain: bool = False
) -> int:
    """Insert rows; returns how many. Must run inside the caller's transaction.

    No conflict handling: callers insert only rows they know are new.
    plain: every value is an int, float or str that the database driver takes
    as it is (no JSON, dates or defaults to fill in), so on SQLite the rows go
    straight to executemany: 15,000 turf doors in 0.1 s instead of 3 s
    through bulk_create's per-object SQL building.
    """
    if connection.vendor == "postgresql":
        return _copy(model, fields, rows)
    if plain:
        return _executemany(model, fields, rows)
    count = 0
    batch: list[models.Model] = []
    for row in rows:
        batch.append(model(**dict(zip(fields, row, strict=True))))
        if len(batch) >= BATCH_SIZE:
            model._default_manager.bulk_create(batch, batch_size=BATCH_SIZE)
            count += len(batch)
            batch = []
    if batch:
        model._default_manager.bulk_create(batch, batch_size=BATCH_SIZE)
        count += len(batch)
    return count


def _copy(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    table, columns = _columns(model, fields)
    count = 0
    with connection.cursor() as cursor:
        # Django's cursor wrapper exposes psycopg's cursor as .cursor.
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


# COPY's text format: these four characters must be escaped inside a value.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_NULL = "\\N"


def copy_text_line(values: Sequence[str]) -> str:
    """Tab-joined strings as one line of COPY's text format (without its newline).

    Fast path for clean values: one join and three scans of the joined line.
    A value with a backslash, tab, newline or carriage return takes the slow
    path, escaped field by field.
    """
    line = "\t".join(values)
    if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != len(values) - 1:
        line = "\t".join(v.translate(_COPY_ESCAPES) for v in values)
    return line


def copy_lines(
    model: type[models.Model], fields: Sequence[str], lines: Iterable[str], *, lines_per_write: int = 10_000
) -> int:
    """COPY already formatted text lines (each ending in a newline) into model's table (PostgreSQL only).

    For the largest writes (a million doors): psycopg's write_row spends about
    30 µs typing and escaping a door's 22 values one by one, where the
    importer can join the strings it already has in about 4. Returns how many
    lines.
    """
    table, columns = _columns(model, fields)
    count = 0
    batch: list[str] = []
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for line in lines:
            batch.append(line)
            if len(batch) >= lines_per_write:
                copy.write("".join(batch))
                count += len(batch)
                batch = []
        if batch:
            copy.write("".join(batch))
            count += len(batch)
    return count


@contextmanager
def foreign_keys_checked_per_statement(model: type[models.Model]) -> Iterator[None]:
    """Inside, check model's foreign keys at the end of each statement, not at commit (PostgreSQL).

    Django declares foreign keys DEFERRABLE INITIALLY DEFERRED, so PostgreSQL
    queues one trigger event per inserted row and runs all the checks at
    commit: 10.5 s for a million doors, against 4.8 s when the same checks run
    at the end of the COPY (measured in SQL, docs/performance.md). Same
    checks, same transaction: only their timing changes. Elsewhere a no-op.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(conname) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype = 'f' AND condeferrable AND condeferred",
            [model._meta.db_table],
        )
        names = ", ".join(name for (name,) in cursor.fetchall())
    if not names:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
    # No finally: after an error the transaction is rolled back, and the setting with it.
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


# A write this large into a table no larger than it rebuilds the indexes
# instead of growing them (rebuild_indexes_if_worth_it).
REBUILD_MIN_ROWS = 100_000


def rebuild_indexes_if_worth_it(model: type[models.Model], new_rows: int) -> bool:
    """Whether a write of new_rows into model's table should drop and re-create its indexes.

    PostgreSQL only; when the write is at least REBUILD_MIN_ROWS and at least
    the rows the table holds already (the planner's estimate), so a rebuild
    sorts no more than twice what the write adds; and never for a table that
    other tables' foreign keys reference (their constraints need its keys).
    """
    if connection.vendor != "postgresql" or new_rows < REBUILD_MIN_ROWS:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT greatest(c.reltuples, 0), EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = c.oid) "
            "FROM pg_class c WHERE c.oid = %s::regclass",
            [model._meta.db_table],
        )
        estimate, referenced = cursor.fetchone()
    return not referenced and new_rows >= estimate


@contextmanager
def indexes_rebuilt(model: type[models.Model]) -> Iterator[None]:
    """Drop model's primary key, unique constraints and indexes; yield; re-create them (PostgreSQL).

    Inside one transaction, so a failure anywhere restores everything. Growing
    two btrees row by row cost 15–19 s for 2 million door-district links;
    building them afterwards from one sort each about 4 s (docs/performance.md).
    The price: the table is locked (ACCESS EXCLUSIVE) until the transaction
    ends, so readers of it wait. Re-creating a unique key fails, and rolls the
    whole write back, if the rows inside broke it.
    """
    table = model._meta.db_table
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY contype, conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT quote_ident(i.relname), pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {name}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        # Index builds sort in memory up to this (the default, 64 MB, spills 2 M rows to disk).
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quoted} ADD CONSTRAINT {name} {definition}")
        for _, definition in indexes:
            cursor.execute(definition)


def _columns(model: type[models.Model], fields: Sequence[str]) -> tuple[str, str]:
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(_column(model, f)) for f in fields)
    return table, columns


def _column(model: type[models.Model], attname: str) -> str:
    field = model._meta.get_field(_field_name(model, attname))
    if not isinstance(field, models.Field) or field.column is None:
        raise ValueError(f"{model.__name__}.{attname} is not a column")
    return field.column


def _executemany(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    table, columns = _columns(model, fields)
    marks = ", ".join(["%s"] * len(fields))
    params: list[Sequence[Any]] = list(rows)  # any value the database adapter takes
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", params)  # noqa: S608 - names from the model
    return len(params)


def _field_name(model: type[models.Model], attname: str) -> str:
    for field in model._meta.concrete_fields:
        if field.attname == attname or field.name == attname:
            return field.name
    raise ValueError(f"{model.__name__} has no field {attname!r}")
