"""One daemon per state store: the lease row, its expiry, a dead holder taken over, a lost lease."""

from __future__ import annotations

import os
import subprocess

import pytest

from reconciler.daemon.lease import Lease, LeaseLost, current
from reconciler.errors import LockError
from reconciler.store import open_database
from reconciler.store import pipelines as store
from reconciler.store.locks import process_identity
from tests.daemon.conftest import clean_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'state.db'}" if request.param == "sqlite" else clean_postgres()
    database = open_database(url)
    yield database
    database.dispose()


def test_a_live_holder_keeps_the_lease_and_the_refusal_names_it(db):
    holder = Lease(db, ttl=30)
    holder.acquire()
    with pytest.raises(LockError) as refused:
        Lease(db, ttl=30).acquire()
    assert f"pid {os.getpid()}" in str(refused.value)
    assert refused.value.holder.holder == process_identity()

    holder.release()
    assert current(db) is None
    Lease(db, ttl=30).acquire()  # free again


def test_an_expired_lease_is_taken_over_and_the_take_over_is_recorded(db):
    Lease(db, ttl=0).acquire()  # expired the moment it was written
    successor = Lease(db, ttl=30)
    previous = successor.acquire()
    assert previous is not None and current(db).token == successor.token
    taken = [e for e in store.log_entries(db) if e["kind"] == "lease-taken-over"]
    assert len(taken) == 1 and taken[0]["detail"]["previous"] == previous.holder


def test_the_lease_of_a_dead_process_is_taken_over_at_once(db):
    finished = subprocess.Popen(["true"])
    finished.wait()
    Lease(db, ttl=3600, holder=process_identity(finished.pid)).acquire()
    assert Lease(db, ttl=30).acquire().holder.split(":")[1] == str(finished.pid)


def test_a_renewal_that_finds_the_lease_gone_says_so(db):
    lease = Lease(db, ttl=30)
    lease.acquire()
    lease.renew()
    with db.transaction() as connection:  # an operator deletes the row, or another daemon replaced it
        connection.exec_driver_sql("DELETE FROM leases")
    with pytest.raises(LeaseLost):
        lease.renew()
    assert lease.held is False
