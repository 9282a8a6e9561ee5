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
another, up to ``maximum``; beyond that, work queues until a thread is free.
A thread above the minimum that has had nothing to do for ``idleSeconds``
ends, so after a burst of slow renders the pool shrinks back.

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

from refweb.python import log


class WorkerPool:
    """A queue of jobs (callables with no arguments) and the threads running them."""

    def __init__(self, minimum=8, maximum=64, idleSeconds=30.0, name="refweb-worker"):
        if not 0 < minimum <= maximum:
            raise ValueError("need 0 < minimum <= maximum, not %r, %r" % (minimum, maximum))
        self.minimum, self.maximum, self.idleSeconds = minimum, maximum, idleSeconds
        self.name = name
        self._jobs = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards the three counts below
        self._threads = 0  # alive
        self._idle = 0  # waiting for a job
        self._queued = 0  # submitted, not yet taken by a thread
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
            if self._queued > self._idle and self._threads < self.maximum:
                self._startThread()
        self._jobs.put(job)

    def _startThread(self):
        # Called with _lock held.
        self._threads += 1
        name = "%s-%d" % (self.name, next(self._numbers))
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self):
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
            try:
                job()
            except Exception:
                log.err(None, "Unhandled error in a worker job %r:" % (job,))
