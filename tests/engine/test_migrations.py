"""The Alembic migrations and the models describe the same schema, on SQLite and PostgreSQL."""
import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from engine.db import db
from tests.conftest import PG_URL


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    from web.config import database_url
    name = f"lotse_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url(PG_URL, str(tmp_path)), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = database_url(PG_URL, str(tmp_path)).rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_then_autogenerate_finds_no_difference(empty_database):
    from web import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_the_group_task_count_migration_counts_the_open_tasks(empty_database):
    """Upgrading a database that already has open tasks fills `group_task_count` as the engine keeps it."""
    from flask_migrate import downgrade

    from engine import cases, deploy, state, users
    from engine.models import GroupTaskCount
    from tests.conftest import fixture_files
    from web import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True})
    state.spec_cache.clear()             # cached by definition id, which another database reuses
    with app.app_context():
        upgrade()
        center = users.get_organisation("center", "Welcome Center Aachen", code="AC")
        anna = users.ensure_user("anna", "Anna", organisation=center, groups=["advisor"])
        deploy.deploy(fixture_files("candidate_expression.bpmn"))
        db.session.commit()
        for team in ("advisor", "advisor, supervisor", "visa", "advisor"):
            cases.start_case("candidate_expression", center=center, data={"team": team}, actor=anna)
        rows = text("SELECT center_id, candidates, group_name, tasks FROM group_task_count ORDER BY 1, 2, 3")
        kept = db.session.execute(rows).all()
        assert sum(n for _c, candidates, name, n in kept if name == candidates.split("\n")[0]) == 4
        db.session.remove()
        downgrade(revision="5d2c8e41f0a7")      # before the group task counts
        upgrade()
        assert db.session.execute(rows).all() == kept
        assert db.session.query(GroupTaskCount).count() == len(kept)
        db.session.remove()
        db.engine.dispose()
    state.spec_cache.clear()


def test_the_has_incident_migration_flags_cases_with_an_open_incident(empty_database):
    from flask_migrate import downgrade

    from engine import cases, deploy, state, users
    from tests.conftest import fixture_files
    from web import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True})
    state.spec_cache.clear()
    with app.app_context():
        upgrade()
        center = users.get_organisation("center", "Welcome Center Aachen", code="AC")
        deploy.deploy(fixture_files("divide.bpmn"))
        db.session.commit()
        failed = cases.start_case("divide", center=center, data={"total": 1, "parts": 0}).id
        fine = cases.start_case("divide", center=center, data={"total": 1, "parts": 1}).id
        db.session.execute(text('UPDATE "case" SET has_incident = false'))   # as the old meaning left them
        db.session.commit()
        db.session.remove()
        downgrade(revision="e7a41c09d2f3")
        upgrade()
        flags = dict(db.session.execute(text('SELECT id, has_incident FROM "case"')).all())
        assert (bool(flags[failed]), bool(flags[fine])) == (True, False)
        db.session.remove()
        db.engine.dispose()
    state.spec_cache.clear()


def test_the_process_owners_migration_versions_the_decisions_deployed_before(empty_database):
    from flask_migrate import downgrade

    from engine import deploy, state
    from tests.conftest import ROOT
    from web import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True})
    state.spec_cache.clear()
    with app.app_context():
        upgrade()
        deploy.deploy_paths([ROOT / "bpmn", ROOT / "forms"])
        changed = (ROOT / "bpmn" / "worker_path.dmn").read_bytes().replace(b"? &gt;= 50700", b"? &gt;= 52000")
        deploy.deploy([("worker_path.dmn", changed)])
        db.session.commit()
        db.session.remove()
        downgrade(revision="a3c51f7e2b90")      # before decision versions: the DMN files are only files
        upgrade()
        rows = db.session.execute(text("SELECT key, version FROM decision_version ORDER BY key, version")).all()
        assert [tuple(r) for r in rows] == [("recognition_body", 1), ("referral_partner", 1),
                                            ("residence_path_facts", 1), ("worker_path", 1), ("worker_path", 2)]
        result = deploy.deploy([("worker_recognition.bpmn", (ROOT / "bpmn" / "worker_recognition.bpmn").read_bytes())])
        assert result.created == []             # its decisions are found, and nothing changed
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    state.spec_cache.clear()
