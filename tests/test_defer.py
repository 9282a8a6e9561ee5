"""Tests for refweb.internet.defer (Deferred) and refweb.python.failure (Failure).

These are plain objects: no sockets needed.  A Deferred's chain is checked
by recording what every callback and errback receives.
"""

import sys
import threading

import pytest

from refweb.internet import defer
from refweb.internet.defer import AlreadyCalledError, Deferred
from refweb.python.failure import Failure, NoCurrentExceptionError


def failureOf(exc):
    """A Failure made the usual way: inside the except block."""
    try:
        raise exc
    except BaseException:
        return Failure()


# -- Deferred: the chain -------------------------------------------------------

def test_deferred_callbackResultFlowsDownTheChain():
    """Each callback gets the previous callback's return value."""
    d = Deferred()
    seen = []
    d.addCallback(lambda r: seen.append(r) or r + 1)
    d.addCallback(lambda r, extra, k=None: seen.append((r, extra, k)) or "end", "x", k="y")
    assert d.called is False
    d.callback(1)
    assert seen == [1, (2, "x", "y")]
    assert d.called is True
    assert d.result == "end"


def test_deferred_raisingCallbackSwitchesToErrbacks():
    """A callback that raises skips the following callbacks and reaches the next errback."""
    d = Deferred()
    seen = []

    def boom(result):
        raise ValueError("in callback")

    d.addCallback(boom)
    d.addCallback(lambda r: seen.append("skipped callback"))
    d.addErrback(lambda f: seen.append(("errback", f.type, f.getErrorMessage())) or "handled")
    d.addCallback(lambda r: seen.append(("back to callbacks", r)))
    d.callback("start")
    assert seen == [("errback", ValueError, "in callback"), ("back to callbacks", "handled")]
    assert d.result is None


def test_deferred_errbackWithArgs():
    """Errbacks get the Failure plus their extra arguments (the guide's println, "error")."""
    d = Deferred()
    seen = []
    d.addErrback(lambda f, label: seen.append((f.check(KeyError), label)), "error")
    d.errback(KeyError("k"))
    assert seen == [(KeyError, "error")]


def test_deferred_errbackThatRaisesStaysOnErrbacks():
    """An errback that raises passes a new Failure to the next errback."""
    d = Deferred()
    seen = []

    def reraise(f):
        raise RuntimeError("second")

    d.addErrback(reraise)
    d.addCallback(lambda r: seen.append("not me"))
    d.addErrback(lambda f: seen.append(f.getErrorMessage()))
    d.errback(ValueError("first"))
    assert seen == ["second"]


def test_deferred_addCallbacksPicksOneOfThePair():
    """addCallbacks runs the callback on success and the errback on failure, with their args."""
    ok, bad = Deferred(), Deferred()
    seen = []
    for d in (ok, bad):
        d.addCallbacks(lambda r, a: seen.append(("cb", r, a)),
                       lambda f, b, k: seen.append(("eb", f.type, b, k)),
                       callbackArgs=("ca",), errbackArgs=("ea",),
                       errbackKeywords={"k": "kw"})
    ok.callback(5)
    bad.errback(TypeError())
    assert seen == [("cb", 5, "ca"), ("eb", TypeError, "ea", "kw")]


def test_deferred_addBothSeesResultsAndFailures():
    """addBoth's function runs for a result and for a Failure alike."""
    seen = []
    good, bad = Deferred(), Deferred()
    good.addBoth(lambda r, tag: seen.append((tag, r)), "good")
    bad.addBoth(lambda r, tag: seen.append((tag, type(r), r.type)) or "recovered", "bad")
    good.callback("value")
    bad.errback(ValueError("x"))
    assert seen == [("good", "value"), ("bad", Failure, ValueError)]
    assert bad.result == "recovered"


def test_deferred_firingTwiceRaisesAlreadyCalledError():
    """A Deferred fires once: a second callback or errback raises AlreadyCalledError."""
    d = Deferred()
    d.callback(1)
    with pytest.raises(AlreadyCalledError):
        d.callback(2)
    with pytest.raises(AlreadyCalledError):
        d.errback(ValueError())
    assert d.result == 1


def test_deferred_callbacksAddedAfterFiringRunAtOnce():
    """A callback added to a fired Deferred runs immediately with the current result."""
    d = defer.succeed("done")
    seen = []
    d.addCallback(seen.append)
    assert seen == ["done"]
    d.addCallback(lambda r: seen.append(("next", r)))
    assert seen == ["done", ("next", None)]


def test_deferred_errbackAddedAfterFailureRunsAtOnce():
    """An errback added to a Deferred that already failed runs immediately."""
    d = defer.fail(ValueError("late"))
    seen = []
    d.addCallback(lambda r: seen.append("not me"))
    d.addErrback(lambda f: seen.append(f.getErrorMessage()))
    assert seen == ["late"]


def test_deferred_callbackAddingCallbacksRunsThemInOrder():
    """A callback may add more callbacks to its own Deferred; they run after it, in order."""
    d = Deferred()
    seen = []

    def first(r):
        d.addCallback(lambda r2: seen.append(("added", r2)))
        seen.append(("first", r))
        return "from first"

    d.addCallback(first)
    d.addCallback(lambda r: seen.append(("second", r)) or r)
    d.callback("go")
    assert seen == [("first", "go"), ("second", "from first"), ("added", "from first")]


def test_deferred_errbackWithNoArgumentUsesTheCurrentException():
    """errback() inside an except block wraps the exception being handled."""
    d = Deferred()
    seen = []
    d.addErrback(lambda f: seen.append(f.value.args))
    try:
        raise IndexError("current")
    except IndexError:
        d.errback()
    assert seen == [("current",)]


def test_deferred_errbackWithAFailureKeepsIt():
    """errback(failure) passes that very Failure down the chain."""
    failure = failureOf(ValueError("same"))
    d = Deferred()
    seen = []
    d.addErrback(seen.append)
    d.errback(failure)
    assert seen == [failure]


def test_deferred_callbacksRunInTheFiringThread():
    """Callbacks run in whichever thread fires the Deferred."""
    d = Deferred()
    names = []
    d.addCallback(lambda r: names.append(threading.current_thread().name))
    t = threading.Thread(target=d.callback, args=(None,), name="firing-thread")
    t.start()
    t.join(5)
    assert names == ["firing-thread"]


def test_deferred_repr():
    """repr shows whether the Deferred is waiting or what it fired with."""
    d = Deferred()
    assert repr(d) == "<Deferred waiting>"
    d.callback(3)
    assert repr(d) == "<Deferred fired: 3>"


def test_deferred_unhandledFailureIsLoggedWhenCollected(logged):
    """A Deferred dropped with an unhandled Failure logs it instead of losing it."""
    d = defer.fail(LookupError("nobody listened"))
    d.__del__()  # what garbage collection does
    d.addErrback(lambda f: None)  # handled now, so the real collection stays quiet
    del d
    text = "\n".join(logged)
    assert "Unhandled error in Deferred:" in text
    assert "LookupError: nobody listened" in text


# -- succeed, fail, maybeDeferred ----------------------------------------------

def test_succeed_isAlreadyFiredWithTheResult():
    """succeed(x) is a Deferred already fired with x."""
    d = defer.succeed({"a": 1})
    assert d.called is True
    assert d.result == {"a": 1}


def test_fail_isAlreadyFiredWithAFailure():
    """fail(exc) is a Deferred already fired with a Failure of exc."""
    d = defer.fail(ValueError("nope"))
    assert d.called is True
    assert isinstance(d.result, Failure)
    assert d.result.check(ValueError)
    d.addErrback(lambda f: None)  # handled: nothing logged at collection


def test_maybeDeferred_wrapsReturnValue():
    """maybeDeferred turns a plain return value into a fired Deferred."""
    d = defer.maybeDeferred(lambda a, b=0: a + b, 2, b=3)
    assert d.called and d.result == 5


def test_maybeDeferred_wrapsException():
    """maybeDeferred turns an exception into a Deferred fired with its Failure."""
    def broken():
        raise KeyError("k")

    d = defer.maybeDeferred(broken)
    seen = []
    d.addErrback(lambda f: seen.append(f.type))
    assert seen == [KeyError]


def test_maybeDeferred_passesADeferredThrough():
    """maybeDeferred returns a Deferred the function returned, unchanged."""
    inner = Deferred()
    assert defer.maybeDeferred(lambda: inner) is inner


# -- Failure -------------------------------------------------------------------

def test_failure_capturesTheCurrentException():
    """Failure() in an except block keeps the exception, its type and traceback text."""
    f = failureOf(ValueError("bad value"))
    assert f.type is ValueError
    assert isinstance(f.value, ValueError)
    assert f.tb is not None
    assert "failureOf" in f.getTraceback()
    assert f.getTraceback().rstrip().endswith("ValueError: bad value")


def test_failure_withoutAnExceptionRaises():
    """Failure() with no exception given and none being handled raises NoCurrentExceptionError."""
    assert sys.exc_info()[1] is None
    with pytest.raises(NoCurrentExceptionError):
        Failure()


def test_failure_fromAnExceptionClassOrInstance():
    """Failure accepts an exception instance or class that was never raised."""
    f = Failure(KeyError)
    assert f.type is KeyError and isinstance(f.value, KeyError)
    g = Failure(OSError("disk"))
    assert g.getErrorMessage() == "disk"
    assert g.getTraceback() == "OSError: disk\n"


def test_failure_checkReturnsTheFirstMatchingType():
    """check() returns the first listed type the error is an instance of, else None."""
    f = Failure(FileNotFoundError("gone"))
    assert f.check(KeyError, OSError, FileNotFoundError) is OSError
    assert f.check(FileNotFoundError) is FileNotFoundError
    assert f.check(KeyError, ValueError) is None


def test_failure_trapReturnsOrReraises():
    """trap() returns a matching type and re-raises the original exception otherwise."""
    f = failureOf(ValueError("v"))
    assert f.trap(TypeError, ValueError) is ValueError
    with pytest.raises(ValueError) as info:
        f.trap(KeyError)
    assert info.value is f.value


def test_failure_trapInAnErrbackPassesOtherErrorsOn():
    """An errback that traps other types lets the Failure go to the next errback."""
    d = Deferred()
    seen = []
    d.addErrback(lambda f: f.trap(KeyError))
    d.addErrback(lambda f: seen.append(f.type))
    d.errback(ValueError("not a key error"))
    assert seen == [ValueError]


def test_failure_getErrorMessageFallsBackToTheTypeName():
    """An exception with no message is described by its class name."""
    assert Failure(ValueError()).getErrorMessage() == "ValueError"
    assert Failure(ValueError("why")).getErrorMessage() == "why"


def test_failure_strAndRepr():
    """str() and repr() name the type and the message."""
    f = Failure(ValueError("boom"))
    assert str(f) == "[Failure instance: ValueError: boom]"
    assert repr(f) == "<Failure ValueError: boom>"


def test_failure_raiseExceptionRaisesTheOriginal():
    """raiseException() raises the very exception the Failure holds."""
    f = failureOf(ArithmeticError("math"))
    with pytest.raises(ArithmeticError) as info:
        f.raiseException()
    assert info.value is f.value
