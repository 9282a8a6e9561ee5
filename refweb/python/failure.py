# -*- test-case-name: tests.test_defer -*-
"""Failure: an exception caught and kept, so it can travel down an errback chain.

Guide: "Knowing When We're Not Wanted" -- ``d.addErrback(println, "error")``
hands a Failure to println when the client goes away first.

A Failure remembers the exception and its formatted traceback at the moment it
was made (inside an ``except`` block, or from an exception object given to it).

Start reading at ``Failure``.
"""

import sys
import traceback


_debugMode = False  # startDebugMode(): refweb -b


def startDebugMode():
    """From now on each Failure made from the exception being handled opens
    the debugger on it first (``pdb.post_mortem``), as ``refweb -b`` asks."""
    global _debugMode
    _debugMode = True


class NoCurrentExceptionError(Exception):
    """Failure() was called with no exception given and none being handled."""


class Failure:
    """An exception wrapped for a Deferred's errbacks.

    ``Failure()`` inside an ``except`` block captures the current exception;
    ``Failure(exc)`` wraps an exception object (raised or not).
    """

    def __init__(self, exc_value=None, exc_type=None, exc_tb=None):
        if exc_value is None:
            exc_type, exc_value, exc_tb = sys.exc_info()
            if exc_value is None:
                raise NoCurrentExceptionError()
            if _debugMode:
                import pdb
                print("refweb -b: %s: %s (post mortem; 'c' carries on)"
                      % (exc_type.__name__, exc_value), flush=True)
                pdb.post_mortem(exc_tb)
        elif isinstance(exc_value, type) and issubclass(exc_value, BaseException):
            exc_value = exc_value()
        self.value = exc_value
        self.type = exc_type or type(exc_value)
        self.tb = exc_tb or exc_value.__traceback__
        # A raised exception's text is formatted now: its frames may be gone
        # by the time it is read.  One never raised (Failure(ConnectionDone()),
        # made as every connection closes) has no frames: its one line waits
        # until someone asks for it.
        self._traceback_text = None
        if self.tb is not None:
            self._traceback_text = "".join(
                traceback.format_exception(self.type, self.value, self.tb))

    def getErrorMessage(self):
        """The exception's message, or its class name when it has none."""
        return str(self.value) or self.type.__name__

    def getTraceback(self):
        if self._traceback_text is None:
            self._traceback_text = "".join(
                traceback.format_exception_only(self.type, self.value))
        return self._traceback_text

    def check(self, *errorTypes):
        """The first of errorTypes this failure is an instance of, else None."""
        for errorType in errorTypes:
            if isinstance(self.value, errorType):
                return errorType
        return None

    def trap(self, *errorTypes):
        """Return the matching type, or re-raise this failure to pass it on."""
        matched = self.check(*errorTypes)
        if matched is None:
            self.raiseException()
        return matched

    def raiseException(self):
        raise self.value.with_traceback(self.tb)

    def __repr__(self):
        return "<Failure %s: %s>" % (self.type.__name__, self.getErrorMessage())

    def __str__(self):
        return "[Failure instance: %s: %s]" % (self.type.__name__, self.getErrorMessage())
