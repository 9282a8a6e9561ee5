# -*- test-case-name: tests.test_threadpool -*-
"""ThreadPool: a fixed set of worker threads taking work from a queue.

Guide: "Serving WSGI Applications" -- "each application call (for each
request) is called within a thread ... a ThreadPool instance is used."

Threads are started lazily, up to ``maxthreads``, as work arrives; idle
threads wait on the queue.  ``stop()`` asks every worker to finish its
current job and exit.  Worker threads are daemons, so a pool that was never
stopped cannot keep a process alive after the reactor has shut down, and
``stop(timeout)`` waits at most ``timeout`` seconds in all: at shutdown a
job blocked past the reactor's ``shutdownGrace`` is abandoned, not waited
for.  ``pending`` counts the jobs queued or running; the reactor adds up
those of every started pool (``livePools``) to say how many requests are in
flight when it is asked to stop.

Start reading at ``ThreadPool.callInThreadWithCallback``.
"""

import queue
import threading
import time
import weakref

from refweb.python import log
from refweb.python.failure import Failure

_STOP = object()  # a queue item that tells one worker to exit
_live = weakref.WeakSet()  # pools started and not yet stopped


def livePools():
    """Every ThreadPool started and not stopped (the WSGI pools among them)."""
    return list(_live)


class ThreadPool:
    """Run callables on a bounded set of named worker threads."""

    def __init__(self, minthreads=5, maxthreads=20, name=None):
        if minthreads < 0 or maxthreads < 1 or minthreads > maxthreads:
            raise ValueError("need 0 <= minthreads <= maxthreads and maxthreads >= 1")
        self.min = minthreads
        self.max = maxthreads
        self.name = name or "refweb-pool"
        self.started = False
        self.joined = False
        self._queue = queue.Queue()
        self._lock = threading.Lock()  # guards _workers and _idle
        self._workers = []
        self._idle = 0  # workers waiting with no job promised to them
        self._pending = 0  # jobs queued or running
        # One slot per job running, in a worker or in a caller (runHereIfFree):
        # never more than ``max`` at once.  A slot is a token in this queue:
        # taking one and giving it back are one C call each, so the many
        # workers that ask at once never wait on a Python-level lock (a
        # BoundedSemaphore is one: a Condition, taken twice per job).
        self._slots = queue.SimpleQueue()
        for _ in range(maxthreads):
            self._slots.put(None)

    @property
    def pending(self):
        """How many jobs are queued or running."""
        return self._pending

    def start(self):
        self.started = True
        self.joined = False
        _live.add(self)
        # enough workers for the minimum, or for work queued before start()
        queued = self._queue.qsize()
        wanted = max(self.min, min(self.max, queued))
        with self._lock:
            while len(self._workers) < wanted:
                self._startWorker(promised=len(self._workers) < queued)

    def _startWorker(self, promised):
        """A new worker; ``promised``: a job already queued is its first."""
        index = len(self._workers) + 1
        worker = threading.Thread(target=self._work, args=(promised,),
                                  name="%s-%d" % (self.name, index), daemon=True)
        self._workers.append(worker)
        worker.start()

    def callInThread(self, func, *args, **kw):
        """Run ``func(*args, **kw)`` on a worker; exceptions are logged."""
        self.callInThreadWithCallback(None, func, *args, **kw)

    def callInThreadWithCallback(self, onResult, func, *args, **kw):
        """Run func on a worker, then onResult(True, result) or onResult(False, failure)."""
        if self.joined:
            raise RuntimeError("ThreadPool %r has been stopped" % (self.name,))
        with self._lock:
            # Each job is promised to one idle worker, or to a new one.  Counting
            # workers as idle until they dequeue would let two jobs queued at
            # once both count on the same worker, and one would wait.
            if self._idle > 0:
                self._idle -= 1
            elif self.started and len(self._workers) < self.max:
                self._startWorker(promised=True)
            self._pending += 1
        self._queue.put((onResult, func, args, kw))

    def runHereIfFree(self, func, *args, **kw):
        """Run ``func(*args, **kw)`` in the calling thread, as one of this
        pool's jobs, if one of its ``max`` slots is free now; False (and
        nothing run) if not -- then callInThread queues it.

        For a caller that is itself a worker with nothing else to do (a
        request's thread running a WSGI application): no hand-off to another
        thread, and the pool still bounds how many jobs run at once."""
        if self.joined:
            return False
        try:
            self._slots.get_nowait()
        except queue.Empty:
            return False
        try:  # not counted in pending: its caller's thread is busy, and counted there
            self._runJob(None, func, args, kw)
        finally:
            self._slots.put(None)
        return True

    def _work(self, promised):
        while True:
            if not promised:
                with self._lock:
                    self._idle += 1
            promised = False
            job = self._queue.get()
            if job is _STOP:
                return
            try:
                self._slots.get()  # waits while callers of runHereIfFree hold every slot
                try:
                    self._runJob(*job)
                finally:
                    self._slots.put(None)
            finally:
                with self._lock:
                    self._pending -= 1

    @staticmethod
    def _runJob(onResult, func, args, kw):
        try:
            result = func(*args, **kw)
            ok = True
        except BaseException:
            result, ok = Failure(), False
            if onResult is None:
                log.err(result, "Unhandled error in a ThreadPool job:")
        if onResult is not None:
            try:
                onResult(ok, result)
            except Exception:
                log.err(None, "Unhandled error in a ThreadPool result callback:")

    def stop(self, timeout=None):
        """Ask every worker to exit once the jobs queued before now are done,
        and wait for them: at most ``timeout`` seconds in all (None: 10 s per
        worker).  A worker still busy then is left to finish on its own --
        a daemon thread, it cannot hold the process's exit."""
        self.joined = True
        self.started = False
        _live.discard(self)
        with self._lock:
            workers = list(self._workers)
            self._workers = []
        for _ in workers:
            self._queue.put(_STOP)
        deadline = None if timeout is None else time.monotonic() + timeout
        for worker in workers:
            if worker is not threading.current_thread():
                worker.join(10 if deadline is None else max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._idle = 0  # the stopped workers wait for nothing now
