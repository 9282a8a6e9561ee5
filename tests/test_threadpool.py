"""Tests for refweb.python.threadpool.ThreadPool and refweb.python.util.println.

Every pool is stopped in a finally block; every wait has a timeout.
"""

import sys
import threading
import time

import pytest

from refweb.python import util
from refweb.python.failure import Failure
from refweb.python.threadpool import ThreadPool
from support import waitUntil

WAIT = 5.0


@pytest.fixture
def pool():
    p = ThreadPool(0, 2, name="testpool")
    p.start()
    try:
        yield p
    finally:
        p.stop()


def test_threadPool_neverRunsMoreThanMaxThreads(pool):
    """With maxthreads=2, at most two jobs run at once, on at most two threads."""
    lock = threading.Lock()
    running, peak, names = [0], [0], set()
    release = threading.Event()
    finished = threading.Semaphore(0)

    def job():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            names.add(threading.current_thread().name)
        release.wait(WAIT)
        with lock:
            running[0] -= 1
        finished.release()

    for _ in range(6):
        pool.callInThread(job)
    time.sleep(0.1)  # time for a third thread to start, were the limit broken
    assert peak[0] == 2
    release.set()
    for _ in range(6):
        assert finished.acquire(timeout=WAIT)
    assert peak[0] == 2
    assert names <= {"testpool-1", "testpool-2"}


@pytest.mark.parametrize("minthreads", [0, 5, 20])
def test_threadPool_runsMaxThreadsJobsAtOnce(minthreads):
    """maxthreads jobs queued at once all run at once, each on its own worker (none
    waits behind another because a worker was counted idle twice)."""
    p = ThreadPool(minthreads, 20, name="wide")
    barrier = threading.Barrier(20, timeout=WAIT * 2)
    met = []
    try:
        p.start()
        for _ in range(20):
            p.callInThread(lambda: met.append(barrier.wait() is not None))
        assert waitUntil(lambda: len(met) == 20, timeout=WAIT * 3)
        assert met == [True] * 20
    finally:
        p.stop()


def test_threadPool_runHereIfFreeRunsInTheCallerUntilTheSlotsAreTaken():
    """runHereIfFree runs the job in the calling thread while a slot is free, and
    refuses (False, nothing run) once the pool's maxthreads jobs are running."""
    p = ThreadPool(0, 1, name="herepool")
    ran, inner = [], []

    def job():
        ran.append(threading.current_thread())
        inner.append(p.runHereIfFree(ran.append, "never"))

    try:
        assert p.runHereIfFree(job) is True
        assert ran == [threading.current_thread()] and inner == [False]
        assert p.runHereIfFree(ran.append, "again") is True  # the slot came back
    finally:
        p.stop()


def test_threadPool_workerWaitsForASlotTheCallerHolds():
    """A queued job waits while runHereIfFree's callers hold every slot, and runs
    as soon as one is given back."""
    p = ThreadPool(0, 1, name="slotpool")
    p.start()
    release, started = threading.Event(), threading.Event()

    def holder():
        p.callInThread(started.set)
        assert not started.wait(0.2)  # the only slot is ours
        release.set()

    try:
        assert p.runHereIfFree(holder) is True
        assert release.is_set() and started.wait(WAIT)
    finally:
        p.stop()


def test_threadPool_restartedPoolRunsJobs():
    """A pool stopped and started again runs new jobs (no worker counted that is gone)."""
    p = ThreadPool(2, 2, name="again")
    done = threading.Event()
    try:
        p.start()
        p.stop()
        p.start()
        p.callInThread(done.set)
        assert done.wait(WAIT)
    finally:
        p.stop()


def test_threadPool_minthreadsStartAtStart():
    """start() starts minthreads workers at once, named NAME-N."""
    p = ThreadPool(3, 5, name="eager")
    try:
        p.start()
        names = sorted(t.name for t in threading.enumerate() if t.name.startswith("eager-"))
        assert names == ["eager-1", "eager-2", "eager-3"]
        assert p.started is True
    finally:
        p.stop()
    assert [t for t in threading.enumerate() if t.name.startswith("eager-")] == []


def test_threadPool_callInThreadWithCallbackReportsSuccess(pool):
    """callInThreadWithCallback calls onResult(True, result) after the function returns."""
    results = []
    done = threading.Event()

    def onResult(ok, result):
        results.append((ok, result, threading.current_thread().name.startswith("testpool-")))
        done.set()

    pool.callInThreadWithCallback(onResult, lambda a, b=1: a * b, 6, b=7)
    assert done.wait(WAIT)
    assert results == [(True, 42, True)]


def test_threadPool_callInThreadWithCallbackReportsFailure(pool):
    """When the function raises, onResult gets (False, Failure of that exception)."""
    results = []
    done = threading.Event()

    def broken():
        raise ValueError("job failed")

    pool.callInThreadWithCallback(lambda ok, r: (results.append((ok, r)), done.set()), broken)
    assert done.wait(WAIT)
    (ok, failure), = results
    assert ok is False
    assert isinstance(failure, Failure)
    assert failure.check(ValueError)
    assert failure.getErrorMessage() == "job failed"


def test_threadPool_errorsWithoutACallbackAreLogged(pool, logged):
    """A job that raises with nobody to tell is logged; the worker carries on."""
    done = threading.Event()

    def broken():
        raise KeyError("lost job")

    pool.callInThread(broken)
    pool.callInThread(done.set)
    assert done.wait(WAIT)
    waitUntil(lambda: "KeyError: 'lost job'" in "\n".join(logged), WAIT)
    text = "\n".join(logged)
    assert "Unhandled error in a ThreadPool job:" in text
    assert "KeyError: 'lost job'" in text


def test_threadPool_brokenResultCallbackIsLogged(pool, logged):
    """An onResult that raises is logged, and the pool keeps working."""
    done = threading.Event()

    def badCallback(ok, result):
        raise RuntimeError("callback broke")

    pool.callInThreadWithCallback(badCallback, lambda: 1)
    pool.callInThread(done.set)
    assert done.wait(WAIT)
    waitUntil(lambda: "callback broke" in "\n".join(logged), WAIT)
    text = "\n".join(logged)
    assert "Unhandled error in a ThreadPool result callback:" in text
    assert "RuntimeError: callback broke" in text


def test_threadPool_stopRunsQueuedJobsThenJoinsWorkers():
    """stop() lets the jobs queued before it finish, then joins every worker."""
    p = ThreadPool(0, 1, name="joinpool")
    p.start()
    done = []
    gate = threading.Event()
    p.callInThread(gate.wait, WAIT)
    p.callInThread(lambda: (time.sleep(0.05), done.append("second")))
    workers = [t for t in threading.enumerate() if t.name.startswith("joinpool-")]
    assert len(workers) == 1
    threading.Timer(0.05, gate.set).start()
    p.stop()
    assert done == ["second"]
    assert not workers[0].is_alive()
    assert p.joined is True and p.started is False


def test_threadPool_callInThreadAfterStopRaises():
    """Work given to a stopped pool is refused with RuntimeError."""
    p = ThreadPool(0, 1)
    p.start()
    p.stop()
    with pytest.raises(RuntimeError):
        p.callInThread(print)
    with pytest.raises(RuntimeError):
        p.callInThreadWithCallback(None, print)


def test_threadPool_stopFromAWorkerDoesNotDeadlock():
    """stop() called from inside a job returns instead of waiting for itself."""
    p = ThreadPool(0, 1, name="selfstop")
    p.start()
    done = threading.Event()
    p.callInThread(lambda: (p.stop(), done.set()))
    assert done.wait(WAIT)


@pytest.mark.parametrize("minthreads, maxthreads", [(-1, 5), (0, 0), (6, 5)])
def test_threadPool_badSizesAreRefused(minthreads, maxthreads):
    """Sizes that cannot work (negative, no threads, min above max) raise ValueError."""
    with pytest.raises(ValueError):
        ThreadPool(minthreads, maxthreads)


def test_threadPool_defaults():
    """A ThreadPool defaults to 5..20 threads named refweb-pool-N."""
    p = ThreadPool()
    assert (p.min, p.max, p.name) == (5, 20, "refweb-pool")


def test_threadPool_jobsQueuedBeforeStartRunAfterStart():
    """Work queued before start() runs once the pool starts, even with minthreads=0."""
    p = ThreadPool(0, 2, name="lazy")
    done = threading.Event()
    p.callInThread(done.set)
    p.start()
    try:
        assert done.wait(1.0)
    finally:
        p.stop()


def test_println_printsPartsAndFlushes(capsys):
    """println prints its parts separated by spaces with a newline (the guide's errback)."""
    util.println(Failure(ValueError("gone")), "error")
    assert capsys.readouterr().out == "[Failure instance: ValueError: gone] error\n"


def test_println_writes_its_line_in_one_write(monkeypatch):
    """println's line is one write, so another thread's output cannot land
    between its parts (print(*parts) writes each part apart)."""
    writes = []

    class Recorder:
        def write(self, text):
            writes.append(text)

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Recorder())
    util.println("client left:", "Connection was closed cleanly.")
    assert writes == ["client left: Connection was closed cleanly.\n"]


def test_stop_with_timeout_abandons_a_blocked_job():
    """stop(timeout) waits at most timeout seconds in all, however many workers
    are blocked; they are daemons, left to end on their own."""
    p = ThreadPool(0, 3, name="blocked")
    p.start()
    release = threading.Event()
    try:
        for _ in range(5):  # three running, two queued
            p.callInThread(release.wait, WAIT)
        assert waitUntil(lambda: p.pending == 5, WAIT)
        started = time.monotonic()
        p.stop(timeout=0.3)
        assert time.monotonic() - started < 0.3 + 0.5
        assert all(t.daemon for t in threading.enumerate() if t.name.startswith("blocked"))
    finally:
        release.set()


def test_pending_counts_queued_and_running_jobs(pool):
    """pending is the number of jobs queued or running; it falls as they end."""
    release = threading.Event()
    for _ in range(3):  # two run (maxthreads=2), one waits
        pool.callInThread(release.wait, WAIT)
    assert pool.pending == 3
    release.set()
    assert waitUntil(lambda: pool.pending == 0, WAIT)


def test_live_pools_lists_started_pools():
    """livePools() holds a pool from start() to stop() (the reactor counts their work)."""
    from refweb.python.threadpool import livePools
    p = ThreadPool(0, 1, name="live")
    assert p not in livePools()
    p.start()
    assert p in livePools()
    p.stop()
    assert p not in livePools()
