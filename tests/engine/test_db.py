"""How a request's or job's session ends: reads are committed (keeping prepared statements), writes never;
and how a read-only session runs without a transaction."""
import pytest
from sqlalchemy import bindparam, event, func, insert, inspect, select, text, update

from engine.db import (WriteInReadOnlySession, db, end_read_only, end_session, execute_direct, load_direct,
                       only_reads, read_without_transaction)
from engine.models import Organisation


def transaction_endings():
    endings = []
    event.listen(db.engine, "commit", lambda conn: endings.append("commit"))
    event.listen(db.engine, "rollback", lambda conn: endings.append("rollback"))
    return endings


def organisations():
    count = db.session.scalar(select(func.count()).select_from(Organisation))
    db.session.rollback()
    return count


def test_a_read_only_session_ends_with_commit(ctx):
    endings = transaction_endings()
    db.session.scalar(select(Organisation.id))
    end_session()
    assert endings == ["commit"]


def test_a_read_only_session_keeps_prepared_statements_on_postgresql(ctx):
    if ctx.backend != "postgresql":
        return      # SQLite has no server-side prepared statements to keep
    query = select(Organisation.id).where(Organisation.name == "x")
    # Prepared statements belong to one connection, and the pool may hand out another after a commit:
    # run them in one transaction so they surely meet on one connection.
    for _ in range(6):          # psycopg prepares a statement from its fifth execution on
        db.session.execute(query)
    prepared = "SELECT count(*) FROM pg_prepared_statements"
    before = db.session.scalar(text(prepared))
    db.session.execute(query)
    connection = db.session.connection().connection.dbapi_connection   # the pool may hand out another one next
    end_session()
    after = connection.execute(prepared).fetchone()[0]
    connection.commit()
    assert before > 0 and after == before


def test_uncommitted_writes_are_rolled_back_not_committed(ctx):
    endings = transaction_endings()
    db.session.connection().execute(insert(Organisation.__table__).values(kind="center", name="Core write"))
    end_session()
    assert endings == ["rollback"] and organisations() == 0

    db.session.add(Organisation(kind="center", name="Pending ORM object"))
    end_session()
    assert organisations() == 0


def test_a_failed_request_is_rolled_back(ctx):
    endings = transaction_endings()
    db.session.scalar(select(Organisation.id))
    end_session(RuntimeError("the view failed"))
    assert endings == ["rollback"]


# --- reading without a transaction (safe requests) ----------------------------------------------------

def runs_in_a_transaction(dbapi_connection) -> bool:
    """Whether the driver runs the connection's statements in a transaction: psycopg is asked whether one is
    open right now; sqlite3, which opens one only before a write, whether it would open one."""
    if hasattr(dbapi_connection, "in_transaction"):          # sqlite3
        return dbapi_connection.isolation_level is not None
    import psycopg
    return dbapi_connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def test_a_read_only_session_reads_outside_a_transaction(ctx):
    db.session.commit()
    assert read_without_transaction() is True
    db.session.scalar(select(Organisation.id))
    dbapi_connection = db.session.connection().connection.dbapi_connection
    assert not runs_in_a_transaction(dbapi_connection)      # no BEGIN was sent, so there is no COMMIT to send
    end_read_only()
    db.session.scalar(select(Organisation.id))          # the session's next use is a transaction again
    assert runs_in_a_transaction(db.session.connection().connection.dbapi_connection)


def test_a_write_in_a_read_only_session_fails_before_it_runs(ctx):
    db.session.commit()
    read_without_transaction()
    with pytest.raises(WriteInReadOnlySession, match="INSERT INTO organisation"):
        db.session.connection().execute(insert(Organisation.__table__).values(kind="center", name="Sneaky"))
    end_read_only()
    db.session.add(Organisation(kind="center", name="Pending ORM object"))
    assert read_without_transaction() is False      # the session is in a transaction now: left as it is
    db.session.commit()
    assert organisations() == 1


@pytest.mark.parametrize("statement, reads", [
    ("SELECT id FROM organisation", True),
    ("  select id FROM organisation FOR UPDATE", True),
    ("WITH named AS (SELECT id FROM organisation) SELECT count(*) FROM named", True),
    ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3)\nSELECT i FROM n", True),
    ("WITH x AS (SELECT 'insert, update or delete' AS \"update\" -- delete\n) SELECT * FROM x", True),
    ("WITH x AS (SELECT id FROM organisation) UPDATE organisation SET name = 'y' WHERE id IN (SELECT id FROM x)", False),
    ("WITH gone AS (DELETE FROM organisation RETURNING id) SELECT count(*) FROM gone", False),
    ("with new AS (insert into organisation (kind, name) values ('center', 'x') returning id) select id from new",
     False),
    ("INSERT INTO organisation (kind, name) VALUES ('center', 'x')", False),
    ("DELETE FROM organisation", False),
    ("WITHOUT_A_KEYWORD", False),
])
def test_only_reads_tells_a_with_select_from_a_with_that_writes(statement, reads):
    assert only_reads(statement) is reads


def test_a_read_only_session_runs_a_with_select_and_refuses_a_with_that_writes(ctx):
    db.session.add(Organisation(kind="center", name="Kept"))
    db.session.commit()
    read_without_transaction()
    named = text("WITH named AS (SELECT id FROM organisation) SELECT count(*) FROM named")
    assert db.session.connection().execute(named).scalar() == 1
    with pytest.raises(WriteInReadOnlySession, match="WITH named"):
        db.session.connection().execute(text(
            "WITH named AS (SELECT name FROM organisation) "
            "INSERT INTO organisation (kind, name) SELECT 'center', name || ' 2' FROM named"))
    end_read_only()
    assert organisations() == 1


def test_a_session_in_a_transaction_is_left_as_it_is(ctx):
    db.session.scalar(select(Organisation.id))
    assert read_without_transaction() is False
    db.session.connection().execute(insert(Organisation.__table__).values(kind="center", name="In a transaction"))
    db.session.rollback()
    assert organisations() == 0


def test_a_read_only_session_keeps_prepared_statements_too(ctx):
    if ctx.backend != "postgresql":
        return      # SQLite has no server-side prepared statements to keep
    query = select(Organisation.id).where(Organisation.name == "y")
    db.session.commit()
    read_without_transaction()
    dbapi_connection = db.session.connection().connection.dbapi_connection
    for _ in range(6):
        db.session.execute(query)
    prepared = "SELECT count(*) FROM pg_prepared_statements"
    before = dbapi_connection.execute(prepared).fetchone()[0]
    end_read_only()
    end_session()
    after = dbapi_connection.execute(prepared).fetchone()[0]
    dbapi_connection.commit()           # the connection is back in the pool: leave it as found
    assert before > 0 and after == before


_ADD_ORGANISATION = insert(Organisation.__table__)      # built once, as execute_direct requires


def test_execute_direct_writes_as_sqlalchemy_would_and_its_statements_are_seen(ctx):
    db.session.commit()
    seen = []
    listener = lambda conn, cursor, statement, *rest: seen.append(statement)      # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        rows = [dict(kind="center", name=name, areas=areas) for name, areas in (("A", ["x", {"n": 1}]), ("B", None))]
        execute_direct(db.session.connection(), _ADD_ORGANISATION, rows)
        execute_direct(db.session.connection(), _ADD_ORGANISATION, [dict(kind="center", name="C", areas=[])])
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    db.session.commit()
    assert dict(db.session.execute(select(Organisation.name, Organisation.areas)).all()) == \
        {"A": ["x", {"n": 1}], "B": None, "C": []}                   # the JSON column's conversion both ways
    assert [statement.split("(")[0].strip() for statement in seen] == ["INSERT INTO organisation"] * 2
    db.session.commit()
    assert read_without_transaction() is True
    with pytest.raises(WriteInReadOnlySession, match="INSERT INTO organisation"):
        execute_direct(db.session.connection(), _ADD_ORGANISATION, [dict(kind="center", name="D", areas=None)])
    end_read_only()
    assert organisations() == 3


_organisations = Organisation.__table__
_ORGANISATIONS_OF_KIND = select(_organisations).where(_organisations.c.kind == bindparam("kind"))   # built once
_ORGANISATIONS_IN = select(_organisations).where(_organisations.c.id.in_(bindparam("ids", expanding=True)))


def test_load_direct_loads_rows_as_the_orm_does_with_populate_existing(ctx):
    center, other = Organisation(kind="center", name="Center"), Organisation(kind="center", name="Other")
    db.session.add_all([center, other])
    db.session.flush()
    db.session.add(Organisation(kind="employer", name="Firm", center_id=center.id, areas=["x", {"n": 1}]))
    db.session.commit()
    other_id = other.id
    db.session.remove()
    seen = []
    listener = lambda conn, cursor, statement, *rest: seen.append(statement)      # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        firm, = load_direct(db.session(), _ORGANISATIONS_OF_KIND, {"kind": "employer"}, Organisation)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert [statement.split("FROM")[0].strip().split()[0] for statement in seen] == ["SELECT"]
    row = db.session.execute(_ORGANISATIONS_OF_KIND, {"kind": "employer"}).one()._asdict()
    assert {column.key: getattr(firm, column.key) for column in _organisations.columns} == row
    assert firm.areas == ["x", {"n": 1}]
    assert inspect(firm).persistent and db.session.get(Organisation, firm.id) is firm and not db.session.dirty
    assert firm.center.name == "Center"             # its relationships load as the ORM's would

    db.session.execute(update(_organisations).where(_organisations.c.id == firm.id)
                       .values(center_id=other_id, areas=None))
    firm.name = "Firm GmbH"                         # not written yet: written first, as before any query
    again, = load_direct(db.session(), _ORGANISATIONS_OF_KIND, {"kind": "employer"}, Organisation)
    assert again is firm                            # the object in the session, overwritten with the row
    assert (firm.name, firm.center_id, firm.areas, firm.center.name) == ("Firm GmbH", other_id, None, "Other")
    assert not db.session.dirty

    firm.name = "Firm & Co"                         # a later change is flushed as any other
    db.session.commit()
    db.session.remove()
    assert db.session.scalar(select(Organisation.name).where(Organisation.kind == "employer")) == "Firm & Co"
    assert load_direct(db.session(), _ORGANISATIONS_IN, {"ids": [other_id]}, Organisation) is None   # the ORM's
