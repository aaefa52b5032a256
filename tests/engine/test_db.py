"""How a request's or job's session ends: reads are committed (keeping prepared statements), writes never."""
from sqlalchemy import event, func, insert, select, text

from engine.db import db, end_session
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
    for _ in range(6):          # psycopg prepares a statement from its fifth execution on
        db.session.execute(query)
        db.session.commit()
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
