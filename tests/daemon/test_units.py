"""The daemon's pure parts: selecting what runs, durations, the coalescing wake-up, backoff,
webhook signatures and condition transitions."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from reconciler.apply.retry import RetryPolicy
from reconciler.daemon import status as st
from reconciler.daemon.backoff import Backoff
from reconciler.daemon.selection import select
from reconciler.daemon.settings import parse_duration, parse_listen
from reconciler.daemon.trigger import Wakeup
from reconciler.daemon.webhook import authentic, sign
from reconciler.errors import ConfigError
from reconciler.model.plan import Action, EnvironmentChange, Op, Plan
from reconciler.store.controls import Control


def change(name: str, digest: str = "d1", after: tuple[str, ...] = (), op: Op = Op.UPDATE) -> EnvironmentChange:
    return EnvironmentChange(name, "aws", "erp-aws", op, actions=(Action("resize", "1 -> 2"),), after=after,
                             source_digest=digest, state_serial=1)


def plan(*changes: EnvironmentChange, refusals: tuple[str, ...] = ()) -> Plan:
    return Plan("abc", "2026-01-01T00:00:00+00:00", changes, refusals)


def names(selection) -> list[str]:
    return [c.environment for c in selection.plan.changes]


class TestSelection:
    def test_a_refusal_naming_an_environment_holds_only_that_one(self):
        chosen = select(plan(change("a"), change("b"), refusals=("b: protected data would be deleted",
                                                                 "c: removing the QA topology ...")),
                        {"a", "b", "c"}, {}, {})
        assert names(chosen) == ["a"] and chosen.plan.refusals == ()
        assert {n: h.reason for n, h in chosen.held.items()} == {"b": "PlanRefused", "c": "PlanRefused"}
        assert chosen.held["b"].status.stalled

    def test_a_refusal_naming_no_environment_holds_everything(self):
        chosen = select(plan(change("a"), refusals=("3 of 4 environments would be removed; refusing",)), {"a"}, {}, {})
        assert names(chosen) == [] and chosen.blocked and chosen.held["a"].reason == "PlanRefused"

    def test_suspended_stalled_and_waiting_environments_are_held(self):
        switches = {"s": Control("s", suspended=True, suspended_by="ana"),
                    "x": Control("x", stalled_reason="EngineError: quota", stalled_digest="d1")}
        chosen = select(plan(change("s"), change("x"), change("w"), change("ok")), {"s", "x", "w", "ok"}, switches,
                        {"w": ("d1", "attempt 1 failed")})
        assert names(chosen) == ["ok"]
        assert {n: h.reason for n, h in chosen.held.items()} == {"s": "Suspended", "x": "EngineError",
                                                                 "w": "ProgressingWithRetry"}

    def test_new_inputs_clear_a_stall_and_a_backoff(self):
        switches = {"x": Control("x", stalled_reason="EngineError: quota", stalled_digest="old")}
        chosen = select(plan(change("x", "new"), change("w", "new")), {"x", "w"}, switches,
                        {"w": ("old", "attempt 3 failed")})
        assert names(chosen) == ["x", "w"] and chosen.unstalled == ("x",)

    def test_what_is_promoted_from_a_held_environment_waits_for_it(self):
        chosen = select(plan(change("qa"), change("prod", after=("qa",)), change("prod2", after=("prod",))),
                        {"qa", "prod", "prod2"}, {"qa": Control("qa", suspended=True)}, {})
        assert names(chosen) == []
        assert chosen.held["prod"].reason == chosen.held["prod2"].reason == "DependencyNotReady"


def test_durations_read_like_flux_and_go():
    assert parse_duration("500ms") == 0.5 and parse_duration("1h30m") == 5400 and parse_duration("15") == 15
    for bad in ("", "1d", "5 minutes", "m5"):
        with pytest.raises(ConfigError):
            parse_duration(bad)
    assert parse_listen("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_listen("[::1]:0") == ("::1", 0) and parse_listen("off") is None
    with pytest.raises(ConfigError):
        parse_listen("localhost")


def test_requests_before_the_loop_looks_are_one_wakeup():
    wake = Wakeup()
    assert [wake.request("webhook") for _ in range(3)] == [False, True, True]
    assert dict(wake.wait(0)) == {"webhook": 3}
    assert wake.wait(0) == {} and wake.pending == 0


def test_close_wakes_a_waiting_loop_for_good():
    wake = Wakeup()
    waiter = threading.Thread(target=wake.wait, args=(3600,))
    waiter.start()
    wake.close()
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    assert wake.wait(3600) == {}  # closed: never blocks again


def test_backoff_grows_per_environment_up_to_the_cap():
    now = [100.0]
    backoff = Backoff(RetryPolicy(attempts=5, base=1.0, cap=4.0), clock=lambda: now[0])
    delays = [backoff.failed("a", "d", "boom") for _ in range(6)]
    assert all(0 <= d <= 4.0 for d in delays) and backoff.attempts("a") == 6
    assert backoff.next_due() == pytest.approx(100.0 + delays[-1])
    now[0] += 5.0
    assert backoff.blocking() == {}  # due: the next pass tries it
    backoff.retain(set())
    assert len(backoff) == 0 and backoff.next_due() is None


def test_webhook_signatures():
    body = b'{"ref": "refs/heads/main"}'
    assert authentic({"X-Hub-Signature-256": sign(body, "k")}, body, "k")
    assert not authentic({"X-Hub-Signature-256": sign(body, "k")}, body + b"\n", "k")
    assert not authentic({"X-Hub-Signature-256": "sha1=" + "0" * 40}, body, "k")
    assert authentic({"X-Gitlab-Token": "k"}, body, "k") and not authentic({"X-Gitlab-Token": "K"}, body, "k")
    assert not authentic({}, body, "k")


def test_a_transition_time_moves_only_when_a_condition_does():
    times = iter(dt.datetime(2026, 1, 1, 0, m, tzinfo=dt.timezone.utc) for m in range(10))
    board = st.Board(clock=lambda: next(times))
    board.set("a", st.progressing("pipeline 1 running"))  # read at minute 1
    board.set("a", st.progressing("pipeline 1 at step 3"))  # minute 2: same conditions, a new message
    assert board.snapshot()[0]["a"][1].minute == 1
    board.set("a", st.ready("applied"))  # minute 3: Ready and Reconciling flip
    status, since = board.snapshot()[0]["a"]
    assert since.minute == 3 and status.message == "applied"
    ready, reconciling, stalled = status.conditions(since)
    assert (ready["status"], reconciling["status"], stalled["status"]) == ("True", "False", "False")
