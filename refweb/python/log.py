# -*- test-case-name: tests.test_log -*-
"""One small logger for the whole server.

Guide: "Running a Twisted Web Server" -- ``twistd -n web`` logs to stdout and
a daemon logs to ``twistd.log``; refweb does the same with ``refweb.log``.

Observers are callables taking one line of text.  ``startLogging(file)`` adds
one that writes timestamped lines to a file.  Until some observer is added,
``msg`` goes nowhere and ``err`` goes to stderr, so a plain script never
loses an error silently.

Start reading at ``msg``.
"""

import sys
import threading
import time
import traceback

from refweb.python.clock import EverySecond
from refweb.python.failure import Failure

_observers = []
_lock = threading.Lock()  # guards _observers and keeps lines whole across threads


def addObserver(observer):
    with _lock:
        _observers.append(observer)


def removeObserver(observer):
    with _lock:
        if observer in _observers:
            _observers.remove(observer)


def isObserved():
    """True once some observer listens; lets callers skip building a line nobody reads."""
    return bool(_observers)


class FileLogObserver:
    """Writes ``2026-11-25T10:00:00+0000 [system] text`` lines to a file."""

    def __init__(self, file):
        self.file = file
        # ``refweb web`` logs every request: the stamp is made once a second.
        self._stamp = EverySecond(
            lambda now: time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)))

    def __call__(self, text):
        stamp = self._stamp()
        for line in text.splitlines() or [""]:
            self.file.write("%s %s\n" % (stamp, line))
        self.file.flush()


def startLogging(file):
    """Send every log line to ``file`` (an open text file, e.g. sys.stdout)."""
    observer = FileLogObserver(file)
    addObserver(observer)
    return observer


def _emit(text, fallback=None):
    with _lock:
        observers = list(_observers)
        if not observers and fallback is not None:
            fallback.write(text + "\n")
            fallback.flush()
            return
        for observer in observers:
            try:
                observer(text)
            except Exception:  # a broken observer must not break the request
                sys.stderr.write("refweb.python.log: observer %r failed\n" % (observer,))


def msg(*parts):
    """Log one informational line."""
    _emit(" ".join(map(str, parts)))


def err(failure=None, why=None):
    """Log an error with its traceback.

    ``failure`` may be a Failure, an exception, or None for the exception
    being handled right now.
    """
    if failure is None:
        text = traceback.format_exc()
    elif isinstance(failure, Failure):
        text = failure.getTraceback()
    elif isinstance(failure, BaseException):
        text = "".join(traceback.format_exception(type(failure), failure,
                                                  failure.__traceback__))
    else:
        text = str(failure)
    if why:
        text = "%s\n%s" % (why, text)
    _emit(text.rstrip("\n"), fallback=sys.stderr)
