# -*- test-case-name: tests.test_defer -*-
"""Deferred: a promise of a result, with callbacks and errbacks.

Guide: "Knowing When We're Not Wanted" --

    d = request.notifyFinish()
    d.addCallback(lambda _: println("finished normally"))
    d.addErrback(println, "error")

A Deferred holds a chain of (callback, errback) pairs.  When it fires with a
result, the result flows down the chain: each callback's return value is the
next one's input; a callback that raises turns the result into a Failure,
which then goes to the next errback.  An errback that returns normally turns
the chain back to callbacks.

In refweb callbacks run in whichever thread fires the Deferred (a connection
thread, the reactor's timer thread, a pool thread); the lock only keeps the
chain consistent when one thread adds callbacks while another fires.

Start reading at ``Deferred.addCallbacks``.
"""

import threading

from refweb.python import log
from refweb.python.failure import Failure


class AlreadyCalledError(Exception):
    """A Deferred fires at most once."""


def _passthru(result, *args, **kw):
    return result


class Deferred:
    """A result that will arrive later, and what to do with it."""

    def __init__(self):
        self.called = False
        self.result = None
        self.callbacks = []
        self._lock = threading.RLock()  # guards callbacks, called and result
        self._running = False

    def addCallbacks(self, callback, errback=None, callbackArgs=(), callbackKeywords=None,
                     errbackArgs=(), errbackKeywords=None):
        self.callbacks.append((
            (callback, callbackArgs, callbackKeywords or {}),
            (errback or _passthru, errbackArgs, errbackKeywords or {}),
        ))
        if self.called:
            self._runCallbacks()
        return self

    def addCallback(self, callback, *args, **kw):
        return self.addCallbacks(callback, _passthru, callbackArgs=args, callbackKeywords=kw)

    def addErrback(self, errback, *args, **kw):
        return self.addCallbacks(_passthru, errback, errbackArgs=args, errbackKeywords=kw)

    def addBoth(self, callback, *args, **kw):
        return self.addCallbacks(callback, callback, callbackArgs=args, callbackKeywords=kw,
                                 errbackArgs=args, errbackKeywords=kw)

    def callback(self, result):
        """Fire the chain with a result."""
        self._start(result)

    def errback(self, failure=None):
        """Fire the chain with a Failure (made from the current exception if None)."""
        if not isinstance(failure, Failure):
            failure = Failure(failure)
        self._start(failure)

    def _start(self, result):
        with self._lock:
            if self.called:
                raise AlreadyCalledError()
            self.called = True
            self.result = result
        self._runCallbacks()

    def _runCallbacks(self):
        with self._lock:
            if self._running:  # a callback added more callbacks: the loop below runs them
                return
            self._running = True
            try:
                while self.callbacks:
                    (callback, errback) = self.callbacks.pop(0)
                    func, args, kw = errback if isinstance(self.result, Failure) else callback
                    try:
                        self.result = func(self.result, *args, **kw)
                    except BaseException:
                        self.result = Failure()
            finally:
                self._running = False

    def __del__(self):
        # An error nobody handled should not vanish without a word.
        if self.called and isinstance(self.result, Failure) and not self.callbacks:
            try:
                log.err(self.result, "Unhandled error in Deferred:")
            except Exception:
                pass

    def __repr__(self):
        state = "fired: %r" % (self.result,) if self.called else "waiting"
        return "<Deferred %s>" % state


def succeed(result):
    d = Deferred()
    d.callback(result)
    return d


def fail(failure=None):
    d = Deferred()
    d.errback(failure)
    return d


def maybeDeferred(f, *args, **kw):
    """Call f; wrap its result (or its exception) in a fired Deferred."""
    try:
        result = f(*args, **kw)
    except BaseException:
        return fail(Failure())
    if isinstance(result, Deferred):
        return result
    return succeed(result)
