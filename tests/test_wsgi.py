"""Tests for refweb.wsgi: WSGIResource against PEP 3333.

Every application is served for real (Site on a free port, ThreadPool) and,
unless a test says why not, wrapped in ``wsgiref.validate.validator``, which
raises inside the application on any PEP 3333 violation by either side; the
``checked`` fixture fails the test if such an error, a WSGIWarning or an
unclosed iterable shows up.
"""

import gc
import http.client
import io
import json
import socket
import sys
import threading
import time
import warnings
from types import SimpleNamespace
from wsgiref.simple_server import demo_app
from wsgiref.validate import validator

import pytest

import refweb
from refweb import resource, server
from refweb.http_response import ResponseChannel
from refweb.internet import reactor
from refweb.internet.address import IPv4Address
from refweb.internet.error import ConnectionDone
from refweb.python.failure import Failure
from refweb.python.threadpool import ThreadPool
from refweb.wsgi import WSGIResource, WSGIResponse
from refweb.wsgi_environ import InputStream, environKey
from support import dechunk, get, rawHTTP, served, statusOf


@pytest.fixture
def pool():
    threadpool = ThreadPool(name="wsgi-test-pool")
    threadpool.start()
    yield threadpool
    threadpool.stop()


@pytest.fixture
def checked(logged, monkeypatch):
    """Fails the test on validator errors, WSGI warnings or unclosed iterables."""
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield logged
        gc.collect()
    assert not [w for w in caught if "WSGI" in str(w.category)], caught
    assert not unraisable, [u.exc_value for u in unraisable]
    assert not [line for line in logged if "AssertionError" in line], logged


def wsgiRoot(pool, app, mount=None, validate=True):
    """A resource tree serving ``app`` at the root, or below ``mount``."""
    wsgi = WSGIResource(reactor, pool, validator(app) if validate else app)
    if mount is None:
        return wsgi
    root = resource.Resource()
    root.putChild(mount, wsgi)
    return root


def echoEnviron(environ, start_response):
    """Answers with the environ's str, bool and tuple values as JSON."""
    shown = {k: v for k, v in environ.items() if isinstance(v, (str, bool, tuple))}
    body = json.dumps(shown).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def okOrElse(app):
    """``app`` for every path but /ok, which answers 200 "fine": lets a test
    show that the server still serves after ``app`` misbehaved."""
    def wrapper(environ, start_response):
        if environ["PATH_INFO"] == "/ok":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"fine"]
        return app(environ, start_response)
    return wrapper


def environOf(port, path="/", **kw):
    status, _, body = get(port, path, **kw)
    assert status == 200, body
    return json.loads(body)


# -- environ -------------------------------------------------------------------

def test_environ_at_the_root(pool, checked):
    """At the root SCRIPT_NAME is '' and PATH_INFO the whole path; the CGI keys are set."""
    with served(wsgiRoot(pool, echoEnviron)) as port:
        env = environOf(port, "/a/b?x=1&y=2", headers={"X-Custom": "v", "Cookie": "a=1"})
    assert env["REQUEST_METHOD"] == "GET"
    assert (env["SCRIPT_NAME"], env["PATH_INFO"], env["QUERY_STRING"]) == ("", "/a/b", "x=1&y=2")
    assert env["SERVER_NAME"] == "127.0.0.1" and env["SERVER_PORT"] == str(port)
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1" and env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["HTTP_X_CUSTOM"] == "v" and env["HTTP_COOKIE"] == "a=1"
    assert env["HTTP_HOST"] == "127.0.0.1:%d" % port
    assert env["CONTENT_TYPE"] == "" and env["REMOTE_HOST"] == "127.0.0.1"
    assert env["wsgi.version"] == [1, 0] and env["wsgi.url_scheme"] == "http"
    assert (env["wsgi.multithread"], env["wsgi.multiprocess"], env["wsgi.run_once"]) == (
        True, False, False)
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env


def test_bodyless_request_has_no_content_length_key(pool, checked):
    """A GET without a body has no CONTENT_LENGTH key, so the common
    int(environ.get("CONTENT_LENGTH", 0)) works; a POST with an empty body keeps "0"."""

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH", 0))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"%d %s" % (length, str("CONTENT_LENGTH" in environ).encode())]

    with served(wsgiRoot(pool, app)) as port:
        assert get(port, "/")[2] == b"0 False"
        assert get(port, "/", "POST", body=b"")[2] == b"0 True"
        assert get(port, "/", "POST", body=b"abc")[2] == b"3 True"


def test_remote_host_is_the_client_address(pool, checked):
    """REMOTE_HOST is the client's address (RFC 3875 §4.1.9: no name is looked up)."""
    with served(wsgiRoot(pool, echoEnviron)) as port:
        env = environOf(port, "/")
    assert env["REMOTE_HOST"] == env["REMOTE_ADDR"] == "127.0.0.1"


def test_proxy_header_never_becomes_HTTP_PROXY(pool, checked):
    """httpoxy: a client's ``Proxy:`` header is not passed as HTTP_PROXY; its
    neighbours (Proxy-Authorization, X-Proxy) still are."""
    with served(wsgiRoot(pool, echoEnviron)) as port:
        env = environOf(port, "/", headers={"Proxy": "http://evil.example:666",
                                            "X-Proxy": "x", "Proxy-Authorization": "Basic eA=="})
    assert "HTTP_PROXY" not in env
    assert env["HTTP_X_PROXY"] == "x" and env["HTTP_PROXY_AUTHORIZATION"] == "Basic eA=="


@pytest.mark.parametrize("path,scriptName,pathInfo", [
    ("/app", "/app", ""),
    ("/app/", "/app", "/"),
    ("/app/x%20y/z", "/app", "/x y/z"),
    ("/app/caf%C3%A9", "/app", "/caf\u00c3\u00a9"),   # UTF-8 bytes, as latin-1 (PEP 3333)
])
def test_script_name_and_path_info_below_a_mount(pool, checked, path, scriptName, pathInfo):
    """Mounted at /app with putChild, SCRIPT_NAME is /app and PATH_INFO the decoded rest."""
    with served(wsgiRoot(pool, echoEnviron, mount="app")) as port:
        env = environOf(port, path)
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == (scriptName, pathInfo)


def test_mounted_at_an_empty_segment(pool, checked):
    """Mounted as the '' child, SCRIPT_NAME stays '' (never '/') and PATH_INFO is '/'."""
    root = resource.Resource()
    root.putChild("", WSGIResource(reactor, pool, validator(echoEnviron)))
    with served(root) as port:
        env = environOf(port, "/")
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("", "/")


def test_header_names_with_underscores_are_dropped(pool, checked):
    """X_Forwarded_For cannot pose as X-Forwarded-For in the environ."""
    with served(wsgiRoot(pool, echoEnviron)) as port:
        raw = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 6.6.6.6\r\n"
                            b"Connection: close\r\n\r\n")
    assert statusOf(raw) == 200
    assert b"6.6.6.6" not in raw


def test_request_body_through_wsgi_input(pool, checked):
    """wsgi.input supports read(n), readline, readlines and iteration over the body."""

    def app(environ, start_response):
        stream = environ["wsgi.input"]
        first = stream.read(3)
        line = stream.readline()
        rest = stream.readlines()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"first": first.decode(), "line": line.decode(),
                            "rest": [r.decode() for r in rest],
                            "type": environ["CONTENT_TYPE"],
                            "length": environ["CONTENT_LENGTH"]}).encode()]

    with served(wsgiRoot(pool, app)) as port:
        status, _, body = get(port, "/", "POST", body=b"abcdef\nline2\nline3",
                              headers={"Content-Type": "text/plain"})
    assert json.loads(body) == {"first": "abc", "line": "def\n", "rest": ["line2\n", "line3"],
                                "type": "text/plain", "length": "18"}

    def iterating(environ, start_response):
        lines = [line for line in environ["wsgi.input"]]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"|".join(lines)]

    with served(wsgiRoot(pool, iterating)) as port:
        assert get(port, "/", "POST", body=b"a\nb\nc")[2] == b"a\n|b\n|c"


def test_chunked_request_body_gets_a_content_length(pool, checked):
    """A chunked request body is stored whole, so CONTENT_LENGTH is its real length."""

    def app(environ, start_response):
        length = int(environ["CONTENT_LENGTH"])
        body = environ["wsgi.input"].read(length)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"%d:%s" % (length, body)]

    with served(wsgiRoot(pool, app)) as port:
        raw = rawHTTP(port, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                            b"Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert raw.endswith(b"\r\n7\r\n5:abcde\r\n0\r\n\r\n")


def test_chunked_request_environ_reads_as_a_plain_body(pool, checked):
    """After de-chunking, the environ describes the body the application reads: no
    HTTP_TRANSFER_ENCODING, CONTENT_LENGTH its length, wsgi.input_terminated set
    (Werkzeug and bottle trusted the stale "chunked" and lost the body)."""
    with served(wsgiRoot(pool, echoEnviron)) as port:
        raw = rawHTTP(port, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                            b"Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        empty = rawHTTP(port, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                              b"Connection: close\r\n\r\n0\r\n\r\n")
    env = json.loads(dechunk(raw.partition(b"\r\n\r\n")[2])[0])
    assert "HTTP_TRANSFER_ENCODING" not in env
    assert env["CONTENT_LENGTH"] == "5" and env["wsgi.input_terminated"] is True
    assert env["SERVER_SOFTWARE"] == "refweb/" + refweb.__version__
    assert json.loads(dechunk(empty.partition(b"\r\n\r\n")[2])[0])["CONTENT_LENGTH"] == "0"


def test_environ_table_in_the_docs_is_the_environ(pool, checked):
    """docs/guide/13-wsgi.rst lists exactly the keys a request's environ has
    (HTTP_* standing for the request headers)."""
    import os
    import re
    docs = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "docs", "guide", "13-wsgi.rst")
    with open(docs, encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("What the application finds"):text.index("Why drop")]
    listed = set(re.findall(r"^``([A-Za-z_.*]+)``\s", table, re.M))
    captured = {}

    def app(environ, start_response):
        captured.update(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with served(wsgiRoot(pool, app)) as port:
        get(port, "/", "POST", body=b"x")
    keys = {("HTTP_*" if key.startswith("HTTP_") else key) for key in captured}
    assert keys == listed


@pytest.mark.parametrize("name,key", [
    ("User-Agent", "HTTP_USER_AGENT"),
    ("X-Forwarded-For", "HTTP_X_FORWARDED_FOR"),
    ("Cookie", "HTTP_COOKIE"),
    ("X_Forwarded_For", None),   # would pose as X-Forwarded-For
    ("Content-Type", None),      # CONTENT_TYPE has it
    ("Content-Length", None),    # CONTENT_LENGTH has it
    ("Transfer-Encoding", None), # the body arrives de-chunked
    ("Proxy", None),             # httpoxy
])
def test_environ_key_of_a_request_header(name, key):
    """A request header's environ key is HTTP_ and its name upper-cased with '_'
    for '-'; the headers PEP 3333 or safety keep out get none."""
    assert environKey(name) == key


def test_environ_changes_do_not_reach_the_next_request(pool, checked):
    """Each request gets an environ of its own: what one application call changed
    in it (even the keys every environ shares) is gone in the next."""
    seen = []

    def app(environ, start_response):
        seen.append((environ["SERVER_SOFTWARE"], "x.mine" in environ))
        environ["SERVER_SOFTWARE"] = "changed"
        environ["x.mine"] = True
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with served(wsgiRoot(pool, app)) as port:
        get(port)
        get(port)
    assert seen == [("refweb/" + refweb.__version__, False)] * 2


def test_input_stream_without_arguments():
    """InputStream.read() and friends accept no size, None or -1 (the validator forbids
    calling them so, hence this direct test)."""
    stream = InputStream(io.BytesIO(b"l1\nl2\nl3"))
    assert stream.readline(None) == b"l1\n"
    assert stream.readlines(None) == [b"l2\n", b"l3"]
    assert InputStream(io.BytesIO(b"all")).read() == b"all"
    assert InputStream(io.BytesIO(b"all")).read(None) == b"all"
    empty = InputStream(None)
    assert (empty.read(), empty.readline(), empty.readlines()) == (b"", b"", [])


# -- responses -----------------------------------------------------------------

def test_wsgiref_demo_app(pool, checked):
    """wsgiref.simple_server.demo_app is served intact."""
    with served(wsgiRoot(pool, demo_app)) as port:
        status, headers, body = get(port, "/?x=1")
    assert status == 200 and body.startswith(b"Hello world!")
    assert b"QUERY_STRING = 'x=1'" in body
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_guide_hello_world_gets_a_content_length(pool, checked):
    """A one-item list body is sent with a Content-Length, not chunked."""

    def application(environ, start_response):
        start_response("200 OK", [("Content-type", "text/plain")])
        return [b"Hello World!"]

    with served(WSGIResource(reactor, pool, application)) as port:
        raw = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b"\r\nContent-Length: 12\r\n" in raw and raw.endswith(b"\r\n\r\nHello World!")


def test_generator_body_is_streamed_chunked(pool, checked):
    """Without a Content-Length, a generator's items go out as HTTP/1.1 chunks as they come."""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"one,"
        yield b""
        yield b"two"

    with served(wsgiRoot(pool, app)) as port:
        raw = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert b"Transfer-Encoding: chunked" in raw
        assert raw.endswith(b"4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n")
        raw10 = rawHTTP(port, b"GET / HTTP/1.0\r\n\r\n")   # HTTP/1.0: the close ends it
        assert raw10.endswith(b"\r\n\r\none,two") and b"chunked" not in raw10


def test_application_content_length_is_respected(pool, checked):
    """An application's Content-Length frames the body; extra bytes are dropped."""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        yield b"hel"
        yield b"lo, and more"

    with served(wsgiRoot(pool, app)) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(2):   # the connection stays usable: nothing spilled over
            conn.request("GET", "/")
            response = conn.getresponse()
            assert response.getheader("Content-Length") == "5"
            assert response.getheader("Transfer-Encoding") is None
            assert response.read() == b"hello"
        conn.close()


def test_short_body_against_content_length_cuts_the_connection(pool, checked):
    """An application that sends less than its Content-Length gets its connection cut."""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return iter([b"short"])

    with served(wsgiRoot(pool, okOrElse(app))) as port:
        raw = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.endswith(b"\r\n\r\nshort")   # and then EOF, before 10 bytes
        assert get(port, "/ok")[2] == b"fine"      # the server still answers


def test_write_callable(pool, checked):
    """Bytes given to write() come first, then the returned iterable's."""

    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"a")
        write(b"b")
        return [b"c"]

    with served(wsgiRoot(pool, app)) as port:
        assert get(port)[2] == b"abc"


def test_head_sends_no_body(pool, checked):
    """A HEAD answer carries the application's headers but no body."""
    with served(wsgiRoot(pool, demo_app)) as port:
        raw = rawHTTP(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200") and raw.endswith(b"\r\n\r\n")


def test_no_header_the_application_did_not_set(pool, checked):
    """An application that sets only Content-Length gets no Content-Type added
    (waitress and Twisted add none); only Date and Server join its headers."""

    def app(environ, start_response):
        start_response("418 I'm a teapot", [("Content-Length", "5"), ("X-More", "1")])
        return [b"short"]

    with served(wsgiRoot(pool, app, validate=False)) as port:  # the validator wants a type
        raw = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    names = [line.split(b":")[0].lower() for line in head.split(b"\r\n")[1:]]
    assert sorted(names) == [b"connection", b"content-length", b"date", b"server", b"x-more"]
    assert head.startswith(b"HTTP/1.1 418 I'm a teapot\r\n") and body == b"short"


def test_header_lines_of_one_name_in_any_case_all_go_out(pool, checked):
    """Two lines of one header name, written in different cases, both go out
    (names are case-insensitive, RFC 9110 §5.1): neither replaces the other."""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"),
                                  ("set-cookie", "b=2")])
        return [b"ok"]

    with served(wsgiRoot(pool, app)) as port:
        raw = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head = raw.partition(b"\r\n\r\n")[0].lower()
    assert b"\r\nset-cookie: a=1\r\n" in head and b"\r\nset-cookie: b=2" in head


def streamedUnlessHead(environ, start_response):
    """Streams a body of unknown length; for HEAD returns nothing, as Werkzeug does."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["REQUEST_METHOD"] == "HEAD":
        return []
    return (part for part in [b"one,", b"two"])


def test_head_of_a_streamed_response_states_no_length(pool, checked):
    """HEAD of a response whose GET is chunked carries neither Content-Length: 0 nor
    chunks (RFC 9110 §9.3.2: a length it does not know is left out, never made up)."""
    with served(wsgiRoot(pool, streamedUnlessHead)) as port:
        head = rawHTTP(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        streamedHead = rawHTTP(port, b"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n"
                                     b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(b"\r\n\r\n")
    assert b"Content-Length" not in head and b"Transfer-Encoding" not in head
    # the connection stays usable after such a HEAD: the next answer follows at once
    first, _, second = streamedHead.partition(b"\r\n\r\n")
    assert b"Content-Length" not in first
    assert second.startswith(b"HTTP/1.1 200 OK\r\n") and b"Transfer-Encoding: chunked" in second


def test_head_keeps_a_length_the_application_gave(pool, checked):
    """HEAD of a response whose length is known (a one-item list) states that length."""

    def application(environ, start_response):
        start_response("200 OK", [("Content-type", "text/plain")])
        return [b"Hello World!"]

    with served(WSGIResource(reactor, pool, application)) as port:
        head = rawHTTP(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b"\r\nContent-Length: 12\r\n" in head and head.endswith(b"\r\n\r\n")


def test_interim_status_from_the_application_is_a_one_line_500(pool, logged):
    """A 1xx from start_response (httpbin /status/100) is refused: 500, and one log
    line saying why, with no traceback (RFC 9110 §15.2: 1xx is never final)."""

    def app(environ, start_response):
        start_response("100 CONTINUE", [("Content-Type", "text/html")])
        return [b""]

    with served(wsgiRoot(pool, okOrElse(app), validate=False)) as port:
        assert get(port)[0] == 500
        assert get(port, "/ok")[2] == b"fine"
    lines = [line for line in logged if "WSGI application error" in line]
    assert len(lines) == 1 and "'100 CONTINUE' is interim (1xx)" in lines[0]
    assert "\n" not in lines[0].strip() and not any("Traceback" in line for line in logged)


def test_no_content_status(pool, checked):
    """A 204 from the application goes out with no body and no Content-Type needed."""

    def app(environ, start_response):
        start_response("204 No Content", [])
        return []

    with served(wsgiRoot(pool, app)) as port:
        status, _, body = get(port)
    assert (status, body) == (204, b"")


def test_file_wrapper(pool, checked):
    """wsgi.file_wrapper iterates a file in blocks and closes it afterwards."""
    data = io.BytesIO(b"0123456789" * 1000)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](data, 4096)

    with served(wsgiRoot(pool, app)) as port:
        assert get(port)[2] == b"0123456789" * 1000
    assert data.closed


def test_wsgi_errors_go_to_the_log(pool, checked):
    """Lines written to wsgi.errors appear in refweb's log."""

    def app(environ, start_response):
        errors = environ["wsgi.errors"]
        errors.write("first line\nsecond ")
        errors.writelines(["line\n", "tail"])
        errors.flush()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with served(wsgiRoot(pool, app)) as port:
        assert get(port)[2] == b"ok"
    for text in ("first line", "second line", "tail"):
        assert "wsgi.errors: " + text in checked


def test_application_runs_in_the_requests_thread_when_the_pool_has_room(pool, checked):
    """With a free slot in the pool, the application runs in the worker that read
    the request: no hand-off to another thread."""
    names = []

    def app(environ, start_response):
        names.append(threading.current_thread().name)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with served(wsgiRoot(pool, app)) as port:
        get(port)
    assert names and names[0].startswith("refweb-worker")


def test_the_pool_bounds_how_many_applications_run_at_once(checked):
    """However many requests come at once, at most the pool's maxthreads
    applications run together; the others wait for a slot, then run."""
    small = ThreadPool(minthreads=0, maxthreads=2, name="small-pool")
    small.start()
    lock, running, peak = threading.Lock(), [0], [0]

    def app(environ, start_response):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    try:
        with served(wsgiRoot(small, app)) as port:
            results = []
            threads = [threading.Thread(target=lambda: results.append(get(port)[2]))
                       for _ in range(5)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
    finally:
        small.stop()
    assert results == [b"ok"] * 5 and peak[0] == 2


def test_stopped_threadpool_is_503(logged):
    """With its thread pool stopped (shutting down), the resource answers 503."""
    stopped = ThreadPool(name="stopped")
    stopped.start()
    stopped.stop()
    with served(wsgiRoot(stopped, echoEnviron)) as port:
        assert get(port)[0] == 503


# -- start_response and errors ---------------------------------------------------

def test_start_response_twice_without_exc_info_is_an_error(pool, checked):
    """A second start_response without exc_info raises, which makes a 500."""
    raised = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
        except RuntimeError as e:
            raised.append(str(e))
            raise
        return [b"never"]

    with served(wsgiRoot(pool, app)) as port:
        status, _, body = get(port)
    assert status == 500 and b"never" not in body
    assert "without exc_info" in raised[0]


def test_exc_info_before_output_replaces_the_response(pool, checked):
    """With exc_info, before any output, an application may replace its status and headers."""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-First", "1")])
        try:
            raise ValueError("boom")
        except ValueError:
            start_response("503 Busy", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"try later"]

    with served(wsgiRoot(pool, app)) as port:
        status, headers, body = get(port)
    assert (status, body) == (503, b"try later") and headers["X-First"] is None


def test_exc_info_after_output_reraises(pool, checked):
    """With exc_info after the head was sent, start_response re-raises that exception."""
    reraised = []

    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"partial")
        try:
            raise KeyError("original")
        except KeyError:
            try:
                start_response("500 Oops", [("Content-Type", "text/plain")], sys.exc_info())
            except KeyError as again:
                reraised.append(again)
                raise
        return [b"unreachable"]

    with served(wsgiRoot(pool, okOrElse(app))) as port:
        raw = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert statusOf(raw) == 200 and raw.endswith(b"7\r\npartial\r\n")   # cut: no last chunk
        assert get(port, "/ok")[2] == b"fine"
    assert reraised and reraised[0].args == ("original",)
    assert any("KeyError" in line for line in checked)


def test_exception_before_start_is_500_and_server_keeps_serving(pool, logged):
    """An application raising before start_response gives a 500; the next request is fine."""

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/fail":
            raise ZeroDivisionError("kaboom")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"fine"]

    with served(wsgiRoot(pool, app)) as port:
        status, headers, body = get(port, "/fail")
        assert status == 500 and b"kaboom" not in body and b"Traceback" not in body
        assert get(port, "/ok")[2] == b"fine"
    assert any("ZeroDivisionError: kaboom" in line for line in logged)


def test_exception_after_output_cuts_the_connection(pool, logged):
    """An application raising after its first chunk gets its connection cut."""
    closed = []

    class Body:
        def __init__(self, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])

        def __iter__(self):
            yield b"first"
            raise RuntimeError("mid-stream failure")

        def close(self):
            closed.append(True)

    with served(wsgiRoot(pool, okOrElse(lambda environ, start: Body(start)))) as port:
        raw = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.endswith(b"5\r\nfirst\r\n")
        assert get(port, "/ok")[2] == b"fine"
    assert closed == [True]
    assert any("mid-stream failure" in line for line in logged)


def test_error_before_first_non_empty_chunk_is_still_a_500(pool, logged):
    """Empty chunks do not send the head, so a later error can still become a 500."""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b""
        raise ValueError("changed my mind")

    with served(wsgiRoot(pool, app)) as port:
        assert get(port)[0] == 500


def test_str_body_before_output_is_500(pool, logged):
    """A str body item is an application error: 500, and a log line says so.
    (Not validated: the validator would reject the str itself first.)"""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["Hello World!"]

    with served(wsgiRoot(pool, app, validate=False)) as port:
        assert get(port)[0] == 500
        assert get(port)[0] == 500   # and again: the server keeps serving
    assert any("yielded a str where bytes are required" in line for line in logged)


def test_str_body_after_output_cuts_the_connection(pool, logged):
    """A str after bytes were sent cuts the connection (not validated, as above)."""

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"bytes first", "then a str"])

    with served(wsgiRoot(pool, app, validate=False)) as port:
        raw = rawHTTP(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw.endswith(b"b\r\nbytes first\r\n")
    assert any("str where bytes are required" in line for line in logged)


def test_write_with_str_is_an_error(pool, logged):
    """write() with a str raises TypeError in the application (not validated, as above)."""

    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write("text")
        return []

    with served(wsgiRoot(pool, app, validate=False)) as port:
        assert get(port)[0] == 500


@pytest.mark.parametrize("status,headers", [
    ("200", [("Content-Type", "text/plain")]),
    (200, [("Content-Type", "text/plain")]),
    ("100 Continue", []),
    ("200 OK", [("Connection", "close")]),
    ("200 OK", (("Content-Type", "text/plain"),)),
    ("200 OK", [("Content-Type", b"text/plain")]),
    ("200 OK", [("X-Bad", "a\r\nInjected: 1")]),
    ("200 OK", [("Content-Length", "ten")]),
])
def test_bad_status_or_headers_are_500(pool, logged, status, headers):
    """start_response refuses malformed statuses, header lists and hop-by-hop headers.
    (Not validated: the validator would refuse most of these itself.)"""

    def app(environ, start_response):
        start_response(status, headers)
        return [b"x"]

    with served(wsgiRoot(pool, app, validate=False)) as port:
        assert get(port)[0] == 500


def test_returning_without_start_response_is_500(pool, logged):
    """An application that returns an empty body without start_response gets a 500."""
    with served(wsgiRoot(pool, lambda environ, start: [], validate=False)) as port:
        assert get(port)[0] == 500
    assert any("without calling start_response" in line for line in logged)


def test_close_failure_is_500(pool, logged):
    """An exception from the iterable's close() is an application error too."""

    class Body(list):
        def close(self):
            raise OSError("close failed")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    with served(wsgiRoot(pool, app, validate=False)) as port:
        assert get(port)[0] == 500
    assert any("close failed" in line for line in logged)


# -- close() -------------------------------------------------------------------

def test_close_is_called_after_success(pool, checked):
    """The returned iterable's close() is called once the response is done."""
    closed = threading.Event()

    class Body:
        def __iter__(self):
            return iter([b"ok"])

        def close(self):
            closed.set()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    with served(wsgiRoot(pool, app)) as port:
        assert get(port)[2] == b"ok"
    assert closed.wait(5)


class QueueingChannel(ResponseChannel):
    """A channel whose client left while its transport still holds queued
    output: the request is told (connectionLost), the transport is not yet
    ``disconnected``."""

    def __init__(self):
        self.transport = SimpleNamespace(
            disconnected=False, getPeer=lambda: IPv4Address("TCP", "127.0.0.1", 5555),
            getHost=lambda: IPv4Address("TCP", "127.0.0.1", 80))
        self.sent = []

    def sendHead(self, request, code, reason, headers):
        pass

    def sendData(self, data):
        self.sent.append(data)
        self.request.connectionLost(Failure(ConnectionDone()))   # the client leaves now
        return len(data)

    def endResponse(self, request):
        pass


def test_application_is_not_asked_for_more_once_the_request_is_told(checked):
    """A client gone while its transport still sends what was queued: once the
    request is told, the application is asked for no more and closed."""
    channel = QueueingChannel()
    request = channel.request = server.Request(channel)
    request.prepath, request.postpath, request.content = [], [""], io.BytesIO()
    asked = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        for n in range(1000):
            asked.append(n)
            yield b"x"

    WSGIResponse(app, request).run()
    assert asked == [0] and channel.sent == [b"x"]


def test_close_is_called_when_the_client_leaves(pool, checked):
    """A client hanging up mid-stream stops the iteration and close() is still called."""
    closed = threading.Event()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        if environ["PATH_INFO"] != "/endless":
            return [b"fine"]

        def endless():
            try:
                while True:
                    time.sleep(0.01)
                    yield b"x" * 1024
            finally:
                closed.set()   # a generator's close() runs its finally

        return endless()

    with served(wsgiRoot(pool, app)) as port:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.close()
        assert closed.wait(10), "the application was never closed"
        assert get(port)[0] == 200
