"""The SQLAlchemy handle, how a session ends, and the column types every model shares."""
import logging
import re
import warnings
from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, types
from sqlalchemy.exc import DBAPIError, SAWarning, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm.attributes import instance_state

from engine import clock

# Stable constraint names, so Alembic autogenerate produces the same migration on
# SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


def end_session(exception=None) -> None:
    """End a request's or job's session; a transaction that only read ends with COMMIT.

    psycopg forgets its prepared statements at every ROLLBACK (one could have undone DDL
    they depend on), so rolling back each read-only request would make the next one parse
    and plan all its statements again. Anything that wrote, or would write (pending ORM
    changes), or a request that failed, is rolled back.
    """
    session = db.session()
    try:
        if (exception is None and session.in_transaction() and session.is_active
                and not (session.new or session.dirty or session.deleted)
                and not session.connection().info.get("lotse_wrote")):
            session.commit()
    except SQLAlchemyError:     # a broken connection: remove() below rolls back what it can
        log.warning("ending a read-only transaction failed", exc_info=True)
    finally:
        db.session.remove()


def discard_changes() -> None:
    """Undo what a failed request or job changed, so that what follows (an error page) reads afresh."""
    db.session.rollback()


class WriteInReadOnlySession(RuntimeError):
    """A statement other than SELECT in a session opened with `read_without_transaction`."""


def read_without_transaction() -> bool:
    """Let this session's statements run outside a transaction (autocommit), for a request that only reads.

    A page that reads sends BEGIN and COMMIT around its statements for nothing: under READ COMMITTED
    each statement sees its own snapshot anyway, in a transaction or not. Without them a page saves
    two round trips. Anything but a read (`only_reads`) on such a session raises `WriteInReadOnlySession` before
    it runs, so a write can never be committed piecemeal. A session already in a transaction (a
    test's, say) is left as it is; the result says whether the mode took effect. End it with
    `end_read_only`.
    """
    session = db.session()
    if session.in_transaction():
        return False
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT", "lotse_read_only": True})
    return True


def end_read_only() -> None:
    """End what `read_without_transaction` began, so that the session's next use gets a transaction again.
    There is nothing to commit: the ROLLBACK sends nothing under autocommit, and psycopg keeps its
    prepared statements."""
    db.session.rollback()


# A statement's text without its string literals, quoted names and comments, which may hold any word.
_NOT_KEYWORDS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)
_READ_HEAD = re.compile(r"\s*(SELECT|WITH)\b", re.I)
_ROW_LOCK = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b", re.I)       # SELECT … FOR UPDATE reads
_WRITE_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.I)


def only_reads(statement: str) -> bool:
    """Whether a statement only reads: a SELECT, or a WITH … SELECT none of whose queries writes (a WITH may
    hold INSERT, UPDATE or DELETE, in a query it names or as its main statement)."""
    head = _READ_HEAD.match(statement)
    if head is None:
        return False
    if head[1].upper() == "SELECT":
        return True
    return not _WRITE_WORD.search(_ROW_LOCK.sub(" ", _NOT_KEYWORDS.sub(" ", statement)))


def note_writes(conn, cursor, statement, parameters, context, executemany):
    if not only_reads(statement):
        if conn.get_execution_options().get("lotse_read_only"):
            raise WriteInReadOnlySession(f"a read-only session tried to write: {statement[:80]!r}")
        conn.info["lotse_wrote"] = True     # per pooled connection, until its transaction ends


def plan_each_time(cursor, statement, parameters, context):
    """Run a statement marked `execution_options(plan_each_time=True)` unprepared on psycopg, so PostgreSQL
    plans it with its values. For free-text searches: no single prepared plan suits both a rare pattern
    (read the trigram index's few matches) and a common one (read the page's index in order until a
    page is found). Returning True tells SQLAlchemy the statement has run."""
    if context.execution_options.get("plan_each_time") and context.dialect.driver == "psycopg":
        cursor.execute(statement, parameters, prepare=False)
        return True
    return False


def transaction_ended(conn):
    conn.info.pop("lotse_wrote", None)


_DIRECT = {}    # (statement id, dialect, parameter keys) -> (SQL, positional names or None, converters), or None


def execute_direct(connection, statement, rows: list[dict]) -> int:
    """Run a Core write built once (a module's constant: it is known by its id) with rows of parameters that
    all have the same keys, on the DBAPI cursor: the SQL SQLAlchemy compiles for it (once per dialect and
    keys), the column types' conversions, the connection's cursor events, but not SQLAlchemy's per-execution
    work, which costs several times psycopg's own for a small statement. A statement that needs more (a
    default computed in Python, an expanding parameter) goes through `connection.execute`. Returns the
    row count (not known yet inside a psycopg pipeline)."""
    keys = rows[0].keys()
    plan_key = (id(statement), connection.dialect.name, tuple(keys))
    plan = _DIRECT.get(plan_key, False)
    if plan is False:
        plan = _DIRECT[plan_key] = _direct_plan(statement, connection.dialect, list(keys))
    if plan is None or any(row.keys() != keys for row in rows):
        return connection.execute(statement, rows).rowcount
    sql, names, converters = plan
    parameters = []
    for row in rows:
        values = {name: (convert(row[name]) if (convert := converters.get(name)) else row[name]) for name in keys}
        parameters.append(values if names is None else tuple(values[name] for name in names))
    many = len(parameters) > 1
    given = parameters if many else parameters[0]
    cursor = connection.connection.cursor()
    try:
        connection.dispatch.before_cursor_execute(connection, cursor, sql, given, None, many)
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, given)
        connection.dispatch.after_cursor_execute(connection, cursor, sql, given, None, many)
        return cursor.rowcount
    except connection.dialect.loaded_dbapi.Error as exc:     # wrapped as SQLAlchemy wraps it
        raise DBAPIError.instance(sql, parameters, exc, connection.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()


def _direct_plan(statement, dialect, keys):
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    if (set(compiled.binds) - set(keys) or compiled.literal_execute_params or compiled.post_compile_params
            or compiled.escaped_bind_names):
        return None
    converters = {}
    for name, bind in compiled.binds.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            converters[name] = convert
    return compiled.string, compiled.positiontup, converters


_LOADS = {}     # (statement id, dialect) -> (SQL, positional names or None, converters, mapper's keys), or None


def load_direct(session, statement, parameters: dict, model) -> list | None:
    """The rows of a Core select of `model`'s table (a module constant: it is known by its id), as the ORM
    loads them with `populate_existing` (after an autoflush; persistent objects in the session's identity
    map, an object already there overwritten with what was read, its loaded relationships reset), read on
    the DBAPI cursor as `execute_direct` writes: the ORM's loading and SQLAlchemy's
    per-execution work cost more than the statement. None when the statement cannot be run so (an
    expanding parameter) or the model has load listeners: then the caller reads through the ORM."""
    if session.autoflush:                   # pending changes are written first, as before any query
        session.flush()
    connection = session.connection()
    mapper = model.__mapper__
    plan_key = (id(statement), connection.dialect.name)
    plan = _LOADS.get(plan_key, False)
    if plan is False:
        plan = _LOADS[plan_key] = _load_plan(statement, connection.dialect, list(parameters), mapper)
    if plan is None or mapper.class_manager.dispatch.load or session.dispatch.loaded_as_persistent:
        return None
    sql, names, converters, keys = plan
    values = {name: (convert(value) if (convert := converters.get(name)) else value)
              for name, value in parameters.items()}
    given = values if names is None else tuple(values[name] for name in names)
    cursor = connection.connection.cursor()
    try:
        connection.dispatch.before_cursor_execute(connection, cursor, sql, given, None, False)
        cursor.execute(sql, given)
        connection.dispatch.after_cursor_execute(connection, cursor, sql, given, None, False)
        rows = cursor.fetchall()
        results = _result_processors(statement, cursor.description, connection.dialect)
    except connection.dialect.loaded_dbapi.Error as exc:     # wrapped as SQLAlchemy wraps it
        raise DBAPIError.instance(sql, given, exc, connection.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()
    return [loaded_object(session, model, dict(zip(keys, (convert(value) if convert else value
                                                           for convert, value in zip(results, row)))))
            for row in rows]


def loaded_object(session, model, values: dict):
    """The persistent object of `model` with these column values (its primary key's among them, by attribute
    name) in the session, as the ORM's loading leaves it with `populate_existing`: an object already in the
    session is overwritten (with every column: its pending changes dropped and its relationships loaded
    anew; with some: those columns alone). Columns not given are read when first used, as with
    `load_only`."""
    mapper = model.__mapper__
    key = mapper.identity_key_from_primary_key([values[mapper.get_property_by_column(column).key]
                                                for column in mapper.primary_key])
    identity_map = session.identity_map
    obj = identity_map.get(key)
    every = len(values) == len(mapper.column_attrs)
    if obj is None:                         # what SQLAlchemy's loading does for a new row
        obj = mapper.class_manager.new_instance()
        state = instance_state(obj)
        state.key, state.identity_token, state.session_id = key, None, session.hash_key
        identity_map._add_unpresent(state, key)
        if not every:                       # the others are loaded as an expired attribute is
            state.expired_attributes.update(attr.key for attr in mapper.column_attrs
                                            if attr.key not in values and not attr.deferred)
    else:
        state = instance_state(obj)
        if every:
            for name in mapper.relationships.keys():
                state._reset(state.dict, name)
    state.dict.update(values)
    if every:
        state._commit_all(state.dict, identity_map)
    else:
        state._commit(state.dict, list(values))
    return obj


def _load_plan(statement, dialect, keys, mapper):
    plan = _direct_plan(statement, dialect, keys)
    columns = list(statement.selected_columns)
    if plan is None or any(mapper.get_property_by_column(column).deferred for column in columns) or any(
            column not in set(columns) for column in mapper.primary_key):
        return None
    return (*plan, [mapper.get_property_by_column(column).key for column in columns])


_RESULTS = {}   # (statement id, dialect) -> each column's result processor, from the cursor's first description


def _result_processors(statement, description, dialect):
    key = (id(statement), dialect.name)
    found = _RESULTS.get(key)
    if found is None:
        found = _RESULTS[key] = [column.type._cached_result_processor(dialect, described[1])
                                 for column, described in zip(statement.selected_columns, description)]
    return found


def drop_everything() -> None:
    """Drop every table in the database, including ones an older schema left behind.

    For tests and benchmarks on scratch databases. `db.drop_all()` only knows today's
    models, so a leftover table that references one of them would make it fail; and the
    session's open transaction would hold locks that block the DROP, so it ends first.
    """
    db.session.remove()
    existing = MetaData()
    existing.reflect(bind=db.engine)
    with warnings.catch_warnings():
        # organisation and user refer to each other; SQLite drops them unsorted all the same
        warnings.filterwarnings("ignore", "Can't sort tables for DROP", SAWarning)
        existing.drop_all(bind=db.engine)


class UTCDateTime(types.TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike.

    Stored naive (as UTC) so SQLite's string comparison orders them correctly.
    """

    impl = types.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class JSONText(types.TypeDecorator):
    """JSON stored as text: the same on both databases and cheap to load as one string."""

    impl = types.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        import json
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=_to_json)

    def process_result_value(self, value, dialect):
        import json
        return None if value is None else json.loads(value)


def _to_json(value):
    """Dates in logged data (event diffs, drafts) are written as ISO text."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def utcnow() -> datetime:
    return clock.now()
