"""Tests for refweb.python.log: observers, startLogging, msg and err.

The observer list is process-wide, so every test starts from an empty list
and puts back what was there before (see the ``clean`` fixture).
"""

import io
import re
import threading

import pytest

from refweb.python import log
from refweb.python.failure import Failure

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"


@pytest.fixture(autouse=True)
def clean():
    """No observers during the test; the earlier ones restored afterwards."""
    saved = list(log._observers)
    for observer in saved:
        log.removeObserver(observer)
    try:
        yield
    finally:
        for observer in list(log._observers):
            log.removeObserver(observer)
        for observer in saved:
            log.addObserver(observer)


def test_msg_reachesEveryObserverAsOneLine():
    """msg joins its parts with spaces and hands the line to every observer."""
    a, b = [], []
    log.addObserver(a.append)
    log.addObserver(b.append)
    log.msg("hello", 42, None)
    assert a == ["hello 42 None"]
    assert b == ["hello 42 None"]


def test_removeObserver_stopsDelivery():
    """A removed observer gets nothing more; removing an unknown one is harmless."""
    lines = []
    log.addObserver(lines.append)
    log.msg("one")
    log.removeObserver(lines.append)
    log.removeObserver(lines.append)
    log.msg("two")
    assert lines == ["one"]


def test_isObserved_tellsWhetherAnyoneListens():
    """isObserved() is False with no observers and True once one is added."""
    assert log.isObserved() is False
    log.addObserver(print)
    assert log.isObserved() is True
    log.removeObserver(print)
    assert log.isObserved() is False


def test_msg_withoutObserversGoesNowhere(capsys):
    """With no observer, msg writes nothing to stdout or stderr."""
    log.msg("quiet")
    assert capsys.readouterr() == ("", "")


def test_startLogging_writesTimestampedLines():
    """startLogging(file) writes each line of a message with a timestamp, and flushes."""
    out = io.StringIO()
    observer = log.startLogging(out)
    assert isinstance(observer, log.FileLogObserver)
    log.msg("first line\nsecond line")
    log.msg("")
    lines = out.getvalue().split("\n")
    assert re.fullmatch(STAMP + r" first line", lines[0])
    assert re.fullmatch(STAMP + r" second line", lines[1])
    assert re.fullmatch(STAMP + r" ", lines[2])
    assert lines[3:] == [""]


def test_err_withoutObserversGoesToStderr(capsys):
    """With no observer, err writes the reason and traceback to stderr."""
    try:
        raise ValueError("to stderr")
    except ValueError:
        log.err(None, "Something failed:")
    out, errText = capsys.readouterr()
    assert out == ""
    assert errText.startswith("Something failed:\nTraceback (most recent call last):\n")
    assert errText.endswith("ValueError: to stderr\n")


def test_err_withObserversSkipsStderr(capsys):
    """With an observer, err goes to the observer and not to stderr."""
    lines = []
    log.addObserver(lines.append)
    log.err(RuntimeError("observed"))
    assert capsys.readouterr() == ("", "")
    assert lines == ["RuntimeError: observed"]


def test_err_acceptsFailureExceptionOrText():
    """err formats a Failure, a raised exception, or plain text."""
    lines = []
    log.addObserver(lines.append)
    try:
        raise KeyError("raised")
    except KeyError as exc:
        caught = exc
    log.err(Failure(caught), "why:")
    log.err(caught)
    log.err("just text")
    assert lines[0].startswith("why:\nTraceback (most recent call last):\n")
    assert lines[0].endswith("KeyError: 'raised'")
    assert lines[1].startswith("Traceback (most recent call last):\n")
    assert lines[1].endswith("KeyError: 'raised'")
    assert lines[2] == "just text"


def test_observer_failingDoesNotBreakMsg(capsys):
    """An observer that raises is reported on stderr; the others still get the line."""
    lines = []

    def broken(text):
        raise RuntimeError("observer down")

    log.addObserver(broken)
    log.addObserver(lines.append)
    log.msg("still delivered")
    assert lines == ["still delivered"]
    errText = capsys.readouterr().err
    assert errText.startswith("refweb.python.log: observer ")
    assert errText.endswith(" failed\n")


def test_msg_linesStayWholeAcrossThreads():
    """Lines logged from many threads at once arrive whole, none lost."""
    out = io.StringIO()
    log.startLogging(out)
    line = "x" * 200

    def spam():
        for _ in range(50):
            log.msg(line)

    threads = [threading.Thread(target=spam) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    written = out.getvalue().splitlines()
    assert len(written) == 200
    assert all(re.fullmatch(STAMP + " " + line, w) for w in written)
