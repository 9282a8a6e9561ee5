"""Tests for refweb.tap: the options of ``refweb web`` and the server they build.

Most tests build the service in this process (``parseArgs`` then
``makeService``) on a free port and fetch pages from it with http.client;
a few run the real command where the command line itself is under test.
"""

import contextlib
import http.client
import os
import re
import socket
import sys
import threading
import time

import pytest

from refweb import tap
from refweb.options import StartupError, UsageError
from refweb.python import reflect

from test_runner import fetch, foreground, freePort, runRefweb, waitFor

LIB = '''\
from refweb import resource, static

class Greeting(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return "greetings from --class"

class Broken(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        raise RuntimeError("kaboom-7431")

def shout(path, registry):
    with open(path) as f:
        return static.Data(f.read().upper().encode(), "text/plain")

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("wsgi saw " + environ["PATH_INFO"]).encode()]
'''

RPY = '''\
from refweb import resource
class R(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return "from the resource script"
resource = R()
'''


@pytest.fixture
def lib(tmp_path, monkeypatch):
    """A folder, made current, holding tap_lib.py (a class, a processor, a WSGI app)."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "tap_lib.py").write_text(LIB)
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "path", list(sys.path))  # makeRoot adds the cwd
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "tap_lib", raising=False)
    return folder


@pytest.fixture
def docs(tmp_path):
    """A folder to --path: index.html, main.html, page.rpy, notes.txt, data.xyz, x.cgi."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "index.html").write_text("<p>index.html</p>")
    (folder / "main.html").write_text("<p>main.html</p>")
    (folder / "page.rpy").write_text(RPY)
    (folder / "notes.txt").write_text("notes\n")
    (folder / "data.xyz").write_text("unknown type\n")
    (folder / "loud.shout").write_text("quiet words\n")
    cgi = folder / "x.cgi"
    cgi.write_text("#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\ncgi ran\\n'\n")
    cgi.chmod(0o755)
    return folder


@contextlib.contextmanager
def web(*argv):
    """Build `refweb web ARGV` here, listening on a free port; yield the port."""
    argv = list(argv)
    if "--listen" not in argv:
        argv += ["--listen", "tcp:0:interface=127.0.0.1"]
    services = tap.makeService(tap.parseArgs(argv))
    services.startService()
    try:
        yield [s._port.getHost().port for s in services][0]
    finally:
        services.stopService()


def post(port, body, path="/"):
    """POST ``body`` over a fresh connection: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "text/plain"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- parsing ----------------------------------------------------------------------

def test_help_lists_every_option():
    """`web --help` lists every option of `twistd web --help`, short spellings too."""
    text = tap.parseArgs(["--help"])
    assert text.startswith("Usage: refweb [options] web [web options]\nOptions:\n")
    for spelling in ("--add-header=", "--allow-ignore-ext", "-c, --certificate=",
                     "--class=", "--display-tracebacks", "--help", "--https=",
                     "-i, --index=", "--ignore-ext=", "-k, --privkey=", "-l, --logfile=",
                     "--listen=", "-m, --mime-type=", "-n, --notracebacks", "-p, --port=",
                     "--path=", "--personal", "--processor=", "--resource-script=",
                     "-u, --user", "--version", "--wsgi="):
        assert spelling in text, spelling
    assert max(len(line) for line in text.splitlines()) <= 80


def test_version_option():
    """`web --version` gives the version text."""
    assert tap.parseArgs(["--version"]).startswith("refweb ")


def test_defaults():
    """No options: the demo root on tcp:8080, no tracebacks, no access-log file."""
    config = tap.parseArgs([])
    assert config["root"] is None and config["ports"] == ["tcp:8080"]
    assert not config["tracebacks"] and config["logfile"] is None


def test_listen_and_port_accumulate():
    """--listen and --port (its older spelling) add endpoints in order."""
    config = tap.parseArgs(["--listen", "tcp:1", "-p", "tcp:2", "--port=3"])
    assert config["ports"] == ["tcp:1", "tcp:2", "3"]


def test_https_adds_an_ssl_endpoint_only():
    """--https PORT with -c/-k is ssl:PORT with those files; tcp:8080 is not added."""
    config = tap.parseArgs(["--https", "8443", "-c", "/a:b/cert.pem", "-k", "key.pem"])
    assert config["ports"] == [r"ssl:8443:privateKey=key.pem:certKey=/a\:b/cert.pem"]


def test_personal_default_endpoint(monkeypatch, tmp_path):
    """--personal alone listens on unix:$HOME/.refweb-web-pb with mode 0600."""
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tap.parseArgs(["--personal"])
    assert config["ports"] == ["unix:%s/.refweb-web-pb:mode=0600" % tmp_path]
    assert tap.parseArgs(["--personal", "--listen", "tcp:9"])["ports"] == ["tcp:9"]


def test_tracebacks_last_option_wins():
    """--display-tracebacks and -n/--notracebacks: the last one given counts."""
    assert tap.parseArgs(["--display-tracebacks"])["tracebacks"] is True
    assert tap.parseArgs(["--display-tracebacks", "-n"])["tracebacks"] is False


def test_relative_paths_become_absolute(docs, monkeypatch):
    """--path, --resource-script and --logfile are made absolute (the daemon changes folder)."""
    monkeypatch.chdir(docs.parent)
    config = tap.parseArgs(["--path", "docs", "-l", "access.log"])
    assert config["path"] == str(docs)
    assert config["logfile"] == str(docs.parent / "access.log")


@pytest.mark.parametrize("argv, words", [
    (["--path", "/nonexistent/folder"], "does not exist"),
    (["--resource-script", "/nonexistent.rpy"], "does not exist"),
    (["--path", "/", "--wsgi", "a.b"], "--path and --wsgi both choose the root"),
    (["--user", "--class", "a.B"], "both choose the root"),
    (["--index", "x.html"], "--index only applies with --path"),
    (["--mime-type", "text/plain"], "--mime-type only applies with --path"),
    (["--path", "/", "--add-header", "NoColon"], "Name: value"),
    (["--path", "/", "--add-header", ": novalue"], "Name: value"),
    (["--path", "/", "--processor", ".x"], "EXT=NAME"),
    (["--path", "/", "--processor", ".x=not a name"], "dotted name"),
    (["--wsgi", "1bad.name"], "dotted name"),
    (["--class", ""], "dotted name"),
    (["--https", "x443"], "port must be a number"),
    (["--listen", "unix:"], "'unix:'"),
    (["--max-body-size", "lots"], "--max-body-size wants a whole number above 0"),
    (["--max-body-size", "0"], "above 0"),
    (["--max-connections", "1K"], "--max-connections wants a whole number"),
    (["--read-timeout", "-1"], "--read-timeout wants a number of seconds"),
    (["--idle-timeout", "0"], "above 0"),
])
def test_bad_options(argv, words):
    """Each bad option is a UsageError saying what was wrong."""
    with pytest.raises(UsageError) as info:
        tap.parseArgs(argv)
    assert words in str(info.value)
    assert info.value.command == "refweb web"


def test_processor_and_ignore_ext_get_a_dot():
    """'--processor foo=N' and '--ignore-ext rpy' mean '.foo' and '.rpy'."""
    config = tap.parseArgs(["--path", "/", "--processor", "foo=a.B", "--ignore-ext", "rpy"])
    assert config["processor"] == [(".foo", "a.B")] and config["ignore_ext"] == [".rpy"]


def test_limit_options_parse_to_attributes():
    """Each limit option sets its attribute; sizes take K, M or G; unset ones stay out."""
    config = tap.parseArgs(["--max-body-size", "200M", "--max-connections", "3",
                            "--read-timeout", "2.5", "--body-timeout", "900"])
    assert config["limits"] == {"maxBodySize": 200 * 1024 * 1024, "maxConnections": 3,
                                "readTimeout": 2.5, "bodyTimeout": 900.0}
    assert tap.parseArgs([])["limits"] == {}


def test_help_lists_the_limit_options_with_their_defaults():
    """`web --help` lists every limit option with the code's default."""
    text = tap.parseArgs(["--help"])
    for option, (attribute, unit) in tap.LIMIT_OPTIONS.items():
        assert "--%s=" % option in text, option
    flat = " ".join(text.split())  # the help wraps lines
    assert "[default: 67108864]" in flat and "[default: 10000]" in flat


# -- namedAny -----------------------------------------------------------------------

def test_named_any(lib):
    """namedAny finds module attributes, nested attributes and modules."""
    assert reflect.namedAny("tap_lib.Greeting").__name__ == "Greeting"
    assert reflect.namedAny("os.path.join") is os.path.join
    assert reflect.namedAny("os") is os


def test_named_any_errors(lib):
    """A missing module or attribute is an InvalidName saying it in words, no
    repr; a module that fails on import raises its own error."""
    with pytest.raises(reflect.ModuleNotFound, match="no module named nosuchmodule "):
        reflect.namedAny("nosuchmodule.app")
    with pytest.raises(reflect.ObjectNotFound, match="^tap_lib has no attribute nothing$"):
        reflect.namedAny("tap_lib.nothing")
    with pytest.raises(reflect.ObjectNotFound, match="^os.path has no attribute nope$"):
        reflect.namedAny("os.path.nope")
    (lib / "needs_missing.py").write_text("import missing_dependency_xyz\n")
    with pytest.raises(ModuleNotFoundError, match="missing_dependency_xyz"):
        reflect.namedAny("needs_missing.thing")  # a broken module is not "missing"


@pytest.mark.parametrize("value, words", [
    ("42", "an integer"), ("'x'", "a string"), ("None", "None"), ("[1]", "a list"),
    ("object()", "an object object"), ("__import__('json')", "a module")])
def test_describe_kind_names_types_as_a_person_would(value, words):
    """describeKind says what a value is in words, never its repr."""
    assert reflect.describeKind(eval(value)) == words


# -- the server the options build -------------------------------------------------

def test_demo_root():
    """With no root option every path shows the demo page."""
    with web() as port:
        for path in ("/", "/any/where"):
            status, headers, body = fetch(port, path)
            assert status == 200 and b"refweb is running" in body


def test_path_serves_files_rpy_and_cgi(docs):
    """--path serves files, runs .rpy resource scripts and .cgi programs."""
    with web("--path", str(docs)) as port:
        assert fetch(port, "/notes.txt")[2] == b"notes\n"
        assert fetch(port, "/")[2] == b"<p>index.html</p>"
        assert fetch(port, "/page.rpy")[2] == b"from the resource script"
        assert fetch(port, "/x.cgi")[2] == b"cgi ran\n"


def test_index_option(docs):
    """--index NAME replaces the index names: / serves main.html."""
    with web("--path", str(docs), "--index", "main.html") as port:
        assert fetch(port, "/")[2] == b"<p>main.html</p>"


def test_ignore_ext(docs):
    """--ignore-ext .txt lets /notes answer with notes.txt."""
    with web("--path", str(docs), "--ignore-ext", ".txt") as port:
        assert fetch(port, "/notes")[2] == b"notes\n"
        assert fetch(port, "/main")[0] == 404


def test_allow_ignore_ext(docs):
    """--allow-ignore-ext lets /main answer with main.html (any extension)."""
    with web("--path", str(docs), "--allow-ignore-ext") as port:
        assert fetch(port, "/main")[2] == b"<p>main.html</p>"


def test_mime_type(docs):
    """--mime-type sets the type of files whose extension says nothing."""
    with web("--path", str(docs), "-m", "application/x-test") as port:
        status, headers, body = fetch(port, "/data.xyz")
        assert headers["Content-Type"].startswith("application/x-test")
        assert fetch(port, "/notes.txt")[1]["Content-Type"].startswith("text/plain")


def test_processor(docs, lib):
    """--processor .shout=tap_lib.shout renders .shout files with that factory."""
    with web("--path", str(docs), "--processor", ".shout=tap_lib.shout") as port:
        assert fetch(port, "/loud.shout")[2] == b"QUIET WORDS\n"


def test_class(lib):
    """--class makes the root from a Resource class with no arguments."""
    with web("--class", "tap_lib.Greeting") as port:
        assert fetch(port, "/")[2] == b"greetings from --class"


def test_resource_script(tmp_path):
    """--resource-script FILE.rpy serves the resource the script sets."""
    script = tmp_path / "root.rpy"
    script.write_text(RPY)
    with web("--resource-script", str(script)) as port:
        assert fetch(port, "/anything")[2] == b"from the resource script"


def test_wsgi(lib):
    """--wsgi module.application serves the WSGI app as the root (module from the cwd)."""
    with web("--wsgi", "tap_lib.application") as port:
        assert fetch(port, "/a/b")[2] == b"wsgi saw /a/b"


def test_wsgi_pool_runs_twenty_requests_at_once(lib):
    """--wsgi runs the application on a pool of 20 threads, as `twistd web --wsgi`
    does: 20 requests that each wait for all the others all complete."""
    (lib / "barrier_app.py").write_text(
        "import threading\n"
        "barrier = threading.Barrier(20, timeout=20)\n"
        "def application(environ, start_response):\n"
        "    barrier.wait()\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'met']\n")
    results = []
    with web("--wsgi", "barrier_app.application") as port:
        clients = [threading.Thread(target=lambda: results.append(fetch(port, "/")[2]))
                   for _ in range(20)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(40)
    assert results == [b"met"] * 20


def test_wsgi_target_must_be_callable(lib):
    """--wsgi naming something that is not callable (a module) is a StartupError."""
    with pytest.raises(StartupError, match="--wsgi json is a module, not a WSGI application"):
        tap.makeService(tap.parseArgs(["--wsgi", "json"]))


def test_max_body_size_option(lib):
    """--max-body-size N: a body of N bytes reaches the application, N + 1 gets 413."""
    with web("--wsgi", "tap_lib.application", "--max-body-size", "10") as port:
        assert post(port, b"x" * 10)[0] == 200
        assert post(port, b"x" * 11)[0] == 413


def test_max_connections_option(lib):
    """--max-connections 1: while one connection is open the next gets 503."""
    with web("--wsgi", "tap_lib.application", "--max-connections", "1") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as first:
            first.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
            assert first.recv(65536).startswith(b"HTTP/1.1 200 OK")
            with socket.create_connection(("127.0.0.1", port), timeout=10) as second:
                second.sendall(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
                assert second.recv(65536).startswith(b"HTTP/1.1 503 Service Unavailable")


def test_idle_timeout_option(lib):
    """--idle-timeout S: a kept-alive connection with no next request is closed after S."""
    with web("--wsgi", "tap_lib.application", "--idle-timeout", "0.3") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
            assert conn.recv(65536).startswith(b"HTTP/1.1 200 OK")
            started = time.monotonic()
            assert conn.recv(65536) == b""  # closed by the server, not by our timeout
            assert time.monotonic() - started < 8


def test_wsgi_missing_module(lib):
    """--wsgi naming a module that is not there is a StartupError."""
    with pytest.raises(StartupError, match="nothere"):
        tap.makeService(tap.parseArgs(["--wsgi", "nothere.app"]))


def test_add_header(docs):
    """--add-header puts the header on every response, 404s included."""
    with web("--path", str(docs), "--add-header", "X-One: 1",
             "--add-header", "X-Two:  two words ") as port:
        for path, code in (("/notes.txt", 200), ("/", 200), ("/missing", 404)):
            status, headers, body = fetch(port, path)
            assert status == code
            assert (headers["X-One"], headers["X-Two"]) == ("1", "two words")


def test_add_header_on_a_leaf_root(lib):
    """--add-header around a leaf root (WSGI) keeps the whole path for the app."""
    with web("--wsgi", "tap_lib.application", "--add-header", "X-Hi: there") as port:
        status, headers, body = fetch(port, "/deep/path")
        assert body == b"wsgi saw /deep/path" and headers["X-Hi"] == "there"


def test_display_tracebacks(lib):
    """--display-tracebacks shows the error's traceback in the 500 page."""
    with web("--class", "tap_lib.Broken", "--display-tracebacks") as port:
        status, headers, body = fetch(port, "/")
        assert status == 500 and b"kaboom-7431" in body and b"Traceback" in body


def test_notracebacks(lib):
    """-n/--notracebacks (the default) keeps the traceback out of the page."""
    with web("--class", "tap_lib.Broken", "--notracebacks") as port:
        status, headers, body = fetch(port, "/")
        assert status == 500 and b"kaboom-7431" not in body


def test_access_log_file(docs, tmp_path):
    """-l FILE appends one combined-log-format line per request."""
    logfile = tmp_path / "access.log"
    with web("--path", str(docs), "-l", str(logfile)) as port:
        fetch(port, "/notes.txt", headers={"User-Agent": "tester/1", "Referer": "http://r/"})
        waitFor(lambda: logfile.read_text(), what="the access-log line")
    line = logfile.read_text().strip()
    assert re.fullmatch(r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                        r'"GET /notes\.txt HTTP/1\.1" 200 6 "http://r/" "tester/1"', line), line


def test_several_listen(docs):
    """Several --listen at once: one service per endpoint, all serving the site."""
    config = tap.parseArgs(["--path", str(docs), "--listen", "tcp:0:interface=127.0.0.1",
                            "--listen", "tcp:0:interface=127.0.0.1"])
    services = tap.makeService(config)
    services.startService()
    try:
        ports = [s._port.getHost().port for s in services]
        assert len(set(ports)) == 2
        for port in ports:
            assert fetch(port, "/notes.txt")[2] == b"notes\n"
    finally:
        services.stopService()


def test_user_root():
    """--user serves distrib.UserDirectory as the root."""
    from refweb import distrib
    assert isinstance(tap.makeRoot(tap.parseArgs(["--user"])), distrib.UserDirectory)


def test_personal_publishes_the_site(tmp_path):
    """--personal wraps the Site in a distrib.ResourcePublisher."""
    from refweb import distrib
    path = tmp_path / "pb.sock"
    services = tap.makeService(tap.parseArgs(["--personal", "--listen", "unix:%s" % path]))
    services.startService()
    try:
        port, = [s._port for s in services]
        assert isinstance(port.factory, distrib.ResourcePublisher)
    finally:
        services.stopService()


# -- the command itself -----------------------------------------------------------

def test_command_web_help(tmp_path):
    """`refweb web --help` prints the option table and exits 0."""
    rc, out, err = runRefweb("web", "--help", cwd=tmp_path)
    assert rc == 0 and out.startswith("Usage: refweb [options] web [web options]")
    assert "--wsgi=" in out and "demo page" in out


def test_command_wsgi_from_cwd(tmp_path):
    """`refweb -n web --wsgi=mod.application` imports mod from the current folder."""
    (tmp_path / "tap_lib.py").write_text(LIB)
    port = freePort()
    with foreground("web", "--wsgi=tap_lib.application", "--listen", "tcp:%d" % port,
                    cwd=tmp_path, port=port):
        assert fetch(port, "/x")[2] == b"wsgi saw /x"


def test_command_wsgi_missing_module(tmp_path):
    """A --wsgi module that cannot be found: one line, exit 1."""
    rc, out, err = runRefweb("-n", "web", "--wsgi", "absent_mod.app", "--listen",
                             "tcp:%d" % freePort(), cwd=tmp_path)
    assert rc == 1 and "absent_mod" in err and len(err.strip().splitlines()) == 1


def test_command_wsgi_not_callable_is_one_line(tmp_path):
    """`refweb -n web --wsgi json`: one line saying json is no application, exit 1."""
    rc, out, err = runRefweb("-n", "web", "--wsgi", "json", "--listen",
                             "tcp:%d" % freePort(), cwd=tmp_path)
    assert rc == 1 and len(err.strip().splitlines()) == 1
    assert "--wsgi json is a module, not a WSGI application" in err
    assert "Traceback" not in out


def test_command_broken_module_is_reported(tmp_path):
    """A --wsgi module failing to import: its file, line and error, a hint at
    --traceback, and no traceback anywhere unless --traceback is given."""
    (tmp_path / "broken_mod.py").write_text("import missing_dependency_xyz\n")
    rc, out, err = runRefweb("-n", "web", "--wsgi", "broken_mod.app", "--listen",
                             "tcp:%d" % freePort(), cwd=tmp_path)
    assert rc == 1 and len(err.strip().splitlines()) == 2
    assert "broken_mod.py, line 1: ModuleNotFoundError" in err
    assert "missing_dependency_xyz" in err and "--traceback" in err
    assert "Traceback" not in out + err
    rc, out, err = runRefweb("-n", "--traceback", "web", "--wsgi", "broken_mod.app",
                             "--listen", "tcp:%d" % freePort(), cwd=tmp_path)
    assert rc == 1 and "Traceback (most recent call last)" in err
    assert 'broken_mod.py", line 1' in err and "refweb/" not in err


def test_command_several_listen_and_access_log(docs, tmp_path):
    """`refweb -n web --listen A --listen B -l FILE`: both ports serve; FILE gets the lines."""
    first, second = freePort(), freePort()
    logfile = tmp_path / "access.log"
    with foreground("web", "--path", str(docs), "--listen", "tcp:%d" % first,
                    "--listen", "tcp:%d" % second, "-l", str(logfile), cwd=tmp_path) as server:
        server.waitPort(first)
        server.waitPort(second)
        assert fetch(first, "/notes.txt")[2] == fetch(second, "/notes.txt")[2] == b"notes\n"
        # the line is written just after the response is sent: wait for it
        waitFor(lambda: logfile.read_text().count('"GET /notes.txt HTTP/1.1" 200') == 2,
                what="two access-log lines")
