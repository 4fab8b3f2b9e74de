"""The server's engine lock: a visitor waiting goes before the background warm-up."""

from __future__ import annotations

import threading
import time

from app.engine_lock import VisitorsFirst


def _until(condition, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.001)


def test_a_waiting_visitor_goes_before_the_background():
    lock, order = VisitorsFirst(quiet=0.0), []

    def background():
        with lock.background():
            order.append("background")

    def visitor():
        with lock:
            order.append("visitor")

    lock.__enter__()  # a first visitor holds it
    waiting_background = threading.Thread(target=background)
    waiting_background.start()
    second = threading.Thread(target=visitor)
    second.start()
    _until(lambda: lock.visitors() == 2)  # the second visitor is queued on the lock
    assert order == [] and waiting_background.is_alive()
    lock.__exit__(None, None, None)
    second.join(10)
    waiting_background.join(10)
    assert order == ["visitor", "background"]
    assert not lock.locked() and lock.visitors() == 0


def test_the_background_waits_for_a_quiet_spell_after_a_visit():
    lock, entered = VisitorsFirst(quiet=0.3), []
    with lock:
        pass
    released = time.monotonic()
    with lock.background():
        entered.append(time.monotonic())
    assert entered[0] - released >= 0.3
    assert not lock.locked()


def test_without_visitors_the_background_runs_at_once():
    lock = VisitorsFirst(quiet=5.0)  # no visitor yet: nothing to wait for
    start = time.monotonic()
    with lock.background():
        assert lock.locked()
    assert time.monotonic() - start < 5.0


def test_a_patient_background_run_waits_for_a_quiet_spell_at_most_most_seconds():
    lock, entered, stop = VisitorsFirst(quiet=5.0), {}, threading.Event()

    def busy():  # one visitor after another, never 5 s apart
        while not stop.is_set():
            with lock:
                time.sleep(0.02)

    def later(name: str, most: float) -> None:
        with lock.background(most):
            entered[name] = time.monotonic()

    visitors = threading.Thread(target=busy)
    visitors.start()
    _until(lambda: lock.visitors() == 1)
    start = time.monotonic()
    patient, unbounded = (
        threading.Thread(target=later, args=("patient", 0.3)),
        threading.Thread(target=later, args=("unbounded", float("inf"))),
    )
    patient.start()
    unbounded.start()
    patient.join(10)
    assert 0.3 <= entered["patient"] - start < 3.0  # well before a quiet spell of 5 s
    assert "unbounded" not in entered and unbounded.is_alive()
    stop.set()
    visitors.join(10)
    unbounded.join(10)  # 5 s after the last visit
    assert "unbounded" in entered and not lock.locked()


def test_with_no_quiet_spell_asked_the_background_goes_as_soon_as_no_visitor_waits():
    lock, entered = VisitorsFirst(quiet=5.0), []
    lock.__enter__()  # a visitor holds it

    def later() -> None:
        with lock.background(quiet=0.0):
            entered.append(time.monotonic())

    waiting = threading.Thread(target=later)
    waiting.start()
    time.sleep(0.1)
    assert not entered  # not while the visitor holds it
    lock.__exit__(None, None, None)
    released = time.monotonic()
    waiting.join(10)
    assert entered[0] - released < 2.0  # not the lock's 5 s of quiet
