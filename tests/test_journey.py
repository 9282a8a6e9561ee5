"""Tests for refweb.journey: the journey table is true to the code and to
docs/internals/design.rst, and Site(journey=True) logs what a request did."""

import importlib
import os
import re
import socket
import subprocess
import sys

from refweb import journey, server
from refweb.python import log

from support import Hello, served, waitUntil

ROOT = os.path.join(os.path.dirname(__file__), os.pardir)


def resolve(dotted):
    """The object ``dotted`` (below refweb) names: a module, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module("refweb." + ".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)


def test_every_step_names_a_function_that_exists():
    """Each step of journey.STEPS names a real function (a rename fails here)."""
    for step in journey.STEPS:
        assert callable(resolve(step.function)), step


def test_design_rst_tells_the_same_steps_in_the_same_order():
    """design.rst's numbered steps are the table's numbers, and each step's
    function is named in design.rst's step of the same number."""
    with open(os.path.join(ROOT, "docs", "internals", "design.rst"), encoding="utf-8") as f:
        text = f.read()
    starts = [(m.group(1), m.start()) for m in re.finditer(r"^(\d+)\. \*\*", text, re.M)]
    assert [number for number, _ in starts] == [step.number for step in journey.STEPS]
    ends = [start for _, start in starts[1:]] + [text.index("\nWhich thread does what")]
    for step, (number, start), end in zip(journey.STEPS, starts, ends):
        name = step.function.split(".")[-1]
        assert name in text[start:end], (step.number, name)


def test_a_kept_alive_request_crosses_six_modules():
    """Steps 2 to 10 (a kept-alive request: no accept) name functions in the
    six modules design.rst lists, and none of them is in the reactor."""
    modules = {step.function.split(".")[0] for step in journey.STEPS if step.number != "1"}
    assert modules == {"http", "http11", "http_request", "resource", "server", "http_response"}
    with open(os.path.join(ROOT, "docs", "internals", "design.rst"), encoding="utf-8") as f:
        text = " ".join(f.read().split())
    assert ("live in six modules, ``http``, ``http11``, ``http_request``, ``resource``,"
            " ``server`` and ``http_response``") in text


def test_web_help_lists_journey():
    """refweb web --help offers --journey."""
    out = subprocess.run([sys.executable, "-m", "refweb", "web", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60).stdout
    assert "--journey" in out


def test_site_journey_logs_each_request_steps_in_order():
    """Site(journey=True): one line per request with steps 1 (or 2), 3 to 9, and 10."""
    lines = []
    log.addObserver(lines.append)
    try:
        with served(server.Site(Hello(), journey=True)) as port:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                while sock.recv(65536):
                    pass
            assert waitUntil(lambda: any(l.startswith("journey ") for l in lines))
    finally:
        log.removeObserver(lines.append)
    line, = [l for l in lines if l.startswith("journey ")]
    assert " GET /hello: " in line
    numbers = [part.split()[0] for part in line.split(": ", 1)[1].split(" | ")]
    assert numbers == ["1", "3", "3", "4", "5", "6", "7", "8", "9", "10"]
    assert re.search(r"\| 10 closed [0-9.]+ ms$", line)
