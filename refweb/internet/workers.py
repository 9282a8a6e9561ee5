# -*- test-case-name: tests.test_connections -*-
"""Worker threads: the threads that answer requests.

Guide: "Site Objects" -- a render method runs in one of these.

The selector (``selectorloop.py``) watches every connection while it waits;
once a connection has something to do (a whole request head, say), the
selector hands it to this pool with ``submit``.  A worker then reads the
body, runs traversal and rendering -- which may block, that is the point of
threads -- writes the response, and hands the connection back.

The pool starts ``minimum`` threads at once, so the first requests do not pay
for starting one.  When every thread is busy and work is waiting, it starts
another, up to ``maximum``; beyond that, work queues until a thread is free
-- while work flows.  When no thread has taken a job for ``stallSeconds``
although jobs wait (every thread is blocked: render methods sleeping, a
slow database), the pool grows past ``maximum``, one thread for each waiting
job, up to ``ceiling``: blocking renders may starve each other of time,
never a request that would not block.  A thread above the minimum that has
had nothing to do for ``idleSeconds`` ends, so after a burst of slow renders
the pool shrinks back.  So at most ``maximum`` threads compete for the
interpreter while requests flow, and at most ``ceiling`` exist at all.

Threads are named ``refweb-worker-N``.  They are daemons and live as long
as the reactor (a notebook may run() and stop() it many times), so the pool
has no stop().

Why not ``refweb.python.threadpool.ThreadPool``, the guide's pool for WSGI?
That one keeps every thread it starts, as Twisted's does; this one must
shrink back after a burst of slow renders, tell a lingering worker whether
other work would wait (``isFull``), and is used twice for every request, so
it takes the lighter ``queue.SimpleQueue``.

Start reading at ``WorkerPool.submit``.
"""

import itertools
import queue
import threading
import time

from refweb.python import log


class WorkerPool:
    """A queue of jobs (callables with no arguments) and the threads running them."""

    stallSeconds = 0.05  # no job taken for this long, jobs waiting: every thread is blocked

    def __init__(self, minimum=8, maximum=64, idleSeconds=30.0, name="refweb-worker",
                 ceiling=None):
        if not 0 < minimum <= maximum:
            raise ValueError("need 0 < minimum <= maximum, not %r, %r" % (minimum, maximum))
        self.minimum, self.maximum, self.idleSeconds = minimum, maximum, idleSeconds
        self.ceiling = max(maximum, ceiling or maximum)
        self.name = name
        self._jobs = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards the counts below and _lastTaken
        self._threads = 0  # alive
        self._idle = 0  # waiting for a job
        self._queued = 0  # submitted, not yet taken by a thread
        self._starting = 0  # started, not yet waiting for a job
        self._lastTaken = time.monotonic()  # when a thread last took a job
        self._numbers = itertools.count(1)

    @property
    def size(self):
        """How many worker threads are alive."""
        return self._threads

    def isFull(self):
        """True if a job submitted now would have to wait for a thread: every
        thread busy and no room to start one (read without the lock: a hint)."""
        return self._threads >= self.maximum and self._queued >= self._idle

    @property
    def busy(self):
        """How many worker threads are running a job."""
        with self._lock:
            return self._threads - self._idle

    def start(self):
        with self._lock:
            while self._threads < self.minimum:
                self._startThread()

    def submit(self, job):
        """Run ``job()`` in a worker thread, as soon as one is free."""
        with self._lock:
            self._queued += 1
            if self._queued > self._idle + self._starting and (
                    self._threads < self.maximum or self._stalledLocked()):
                self._startThread()
        self._jobs.put(job)

    def relieve(self):
        """If every thread is blocked while jobs wait, start a thread for each
        waiting job (up to ``ceiling``).  The selector calls this a few times
        a second, for jobs that were queued before the stall could be seen."""
        with self._lock:
            while self._queued > self._idle + self._starting and self._stalledLocked():
                self._startThread()

    def _stalledLocked(self):
        # Called with _lock held: room under the ceiling, and no job taken lately.
        return (self._threads < self.ceiling
                and time.monotonic() - self._lastTaken > self.stallSeconds)

    def _startThread(self):
        # Called with _lock held.
        self._threads += 1
        self._starting += 1
        name = "%s-%d" % (self.name, next(self._numbers))
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self):
        with self._lock:
            self._starting -= 1  # from now on it is counted as idle or busy
        while True:
            with self._lock:
                self._idle += 1
            try:
                job = self._jobs.get(timeout=self.idleSeconds)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    # A job submitted just as the wait ran out is counted in
                    # _queued already: stay for it.
                    if self._threads > self.minimum and self._queued == 0:
                        self._threads -= 1
                        return
                continue
            with self._lock:
                self._idle -= 1
                self._queued -= 1
                self._lastTaken = time.monotonic()
            try:
                job()
            except Exception:
                log.err(None, "Unhandled error in a worker job %r:" % (job,))
