"""The state store on SQLite and on PostgreSQL: migrations, serial-checked writes, locks, pipelines."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import sqlalchemy as sa

from reconciler.errors import LockError, StalePlanError, StateError
from reconciler.model.graph import ResourceGraph
from reconciler.model.pipeline import PipelineStatus, StepStatus
from reconciler.store import environments, locks, open_database
from reconciler.store import pipelines as store
from reconciler.store.database import HEAD_REVISION, current_revision
from reconciler.store.tables import metadata
from tests.conftest import PROTHEUS

POSTGRES = os.environ.get("RECONCILER_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        yield open_database(f"sqlite:///{tmp_path / 'state.db'}")
        return
    if not POSTGRES:
        pytest.skip("set RECONCILER_TEST_POSTGRES_URL (.ci/run starts a throwaway PostgreSQL) to test it")
    engine = sa.create_engine(POSTGRES)
    with engine.begin() as connection:  # a clean database for every test
        metadata.drop_all(connection)
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    database = open_database(POSTGRES)
    yield database
    database.dispose()


def values(serial_note: str = "") -> dict:
    return environments.record_values(document=PROTHEUS, customer_document=None, spec_digest="sha256:s" + serial_note,
                                      source_digest="sha256:q", artifacts={"a": "sha256:1"}, derived={},
                                      revision="abc", graph=ResourceGraph.empty("erp-aws", "acme-protheus-prod"),
                                      applied_by="ana", pipeline_id=None)


def test_migrated_to_the_latest_schema(db):
    assert current_revision(db) == HEAD_REVISION
    with db.reading() as connection:
        names = set(sa.inspect(connection).get_table_names())
    assert {"environments", "pipelines", "steps", "events", "locks", "backups", "controls", "leases"} <= names


def test_newer_schema_is_refused(db):
    with db.transaction() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StateError, match="newer than this reconciler"):
        open_database(db.url)


def test_serial_checked_writes(db):
    now = db.clock()
    with db.transaction() as connection:
        assert environments.save(connection, name="acme-protheus-prod", expected_serial=0, values=values(),
                                 applied_at=now) == 1
    with pytest.raises(StalePlanError):
        with db.transaction() as connection:
            environments.save(connection, name="acme-protheus-prod", expected_serial=0, values=values("2"),
                              applied_at=now)
    record = environments.get(db, "acme-protheus-prod")
    assert record.serial == 1 and record.spec_digest == "sha256:s" and record.applied_at.tzinfo is not None
    assert environments.summaries(db)["acme-protheus-prod"].serial == 1


def test_locks(db):
    lock_id = locks.acquire(db, "env-a", "apply", "ana", "abc", timeout=1)
    with pytest.raises(LockError) as raised:
        locks.acquire(db, "env-a", "apply", "joao", "def", timeout=0.2, poll=0.05)
    assert raised.value.holder.actor == "ana" and lock_id in str(raised.value)
    info = locks.unlock(db, lock_id, "ops")
    assert info.actor == "ana" and locks.all_locks(db) == []
    assert any("released by hand by ops" in e["description"] for e in store.log_entries(db))


def test_pipelines_steps_and_queries(db):
    now = db.clock()
    with db.transaction() as connection:
        ids = [store.create(connection, environment=f"env-{i % 2}", action=f"action {i}", actions=["resize"],
                            revision="abc", login="ana", cost_impact=i % 2 == 0, change={}, now=now + dt.timedelta(
                                seconds=i), owner="h:1:2", steps=[store.StepPlan("lock", "lock", {}),
                                                                 store.StepPlan("verify", "verify", {})])
               for i in range(30)]
        store.step_status(connection, ids[0], 0, StepStatus.FAILED, now, "boom", attempt=True)
        store.set_status(connection, ids[0], PipelineStatus.FAILED, now, "boom")
    page, total = store.query(db, store.PipelineQuery(page_size=25))
    assert total == 30 and len(page) == 25 and page[0].id == ids[-1]
    second, _ = store.query(db, store.PipelineQuery(page_size=25, page=2))
    assert [p.id for p in second] == ids[4::-1]
    cost, total_cost = store.query(db, store.PipelineQuery(cost_only=True, page_size=50))
    assert total_cost == 15 and all(p.cost_impact for p in cost)
    failed, _ = store.query(db, store.PipelineQuery(statuses=("failed",)))
    assert [p.id for p in failed] == [ids[0]] and failed[0].failed_step.message == "boom"
    assert store.last_for(db, ["env-0", "env-1"])["env-1"].id == ids[-1]
