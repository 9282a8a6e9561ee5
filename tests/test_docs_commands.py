"""Every command the documentation prints runs, exactly as printed, and serves
what its chapter says.

The commands are found, not listed by hand: every non-comment line of each
shell example a page includes (``docs/examples/*.sh``), the ``#   COMMAND``
line under "# Run it from docs/examples/" at the top of every other example
a page includes, and any ``python -m refweb``/``refweb`` line in a literal
block of a page.  Each runs under bash in a fresh copy of docs/examples/
(or the folder its comment names), with ``PORT`` set to a free port; the
test then fetches what the chapter says it serves and stops the process.

``EXPECTED`` says, for each command, what to fetch; a command found in the
docs with no entry, or an entry whose command is gone, fails
``test_every_printed_command_is_run``.  ``NOT_RUN`` lists the few commands
that cannot run here, each with the reason.
"""

import contextlib
import os
import re
import socket
import subprocess
import time

import pytest

from refweb import static
from tests.support import freePort, get, served
from tests.test_docs import (EXAMPLES, body, includedFiles, normalised, procs,  # noqa: F401
                             rstFiles, waitFile, waitGone, workdir)

RUN_LINE = re.compile(r"^# Run it from docs/examples/.*\n#   (.+)$", re.M)
PAGE_COMMAND = re.compile(r"^\s+((?:python3? -m refweb|refweb) .*)$")


def shellCommands(text):
    """The command lines of a shell file: comments dropped, ``\\`` lines joined."""
    commands, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            commands.append(re.sub(r" +", " ", pending))
            pending = ""
    return commands


def literalBlockCommands(text):
    """``python -m refweb``/``refweb`` lines inside a page's ``::`` literal blocks."""
    found, inLiteral = [], False
    for line in text.splitlines():
        if line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            inLiteral = True
            continue
        if inLiteral and line and not line[0].isspace():
            inLiteral = False
        match = PAGE_COMMAND.match(line) if inLiteral else None
        if match:
            found.append(match.group(1).strip())
    return found


# Scripts whose page quotes their whole output: each is one command, run
# whole, and what it prints is compared with its .out file.
WHOLE_SCRIPTS = {"cli_mistakes.sh"}


def printedCommands():
    """{command: the example file or page that prints it}, over all of docs/."""
    found = {}
    for path in sorted(includedFiles()):
        name = os.path.relpath(path, EXAMPLES)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if name in WHOLE_SCRIPTS:
            commands = ["bash " + name]  # its lines only mean something together
        elif name.endswith(".sh"):
            commands = shellCommands(text)
        else:
            commands = RUN_LINE.findall(text)
        for command in commands:
            found.setdefault(command, name)
    for page in rstFiles():
        with open(page, encoding="utf-8") as f:
            for command in literalBlockCommands(f.read()):
                found.setdefault(command, os.path.basename(page))
    return found


# --------------------------------------------------------------------------
# what each command serves, as its chapter says
# --------------------------------------------------------------------------

LISTEN = "--listen tcp:${PORT:-8080}:interface=127.0.0.1"


def resourceScript(name):
    return "python -m refweb -n web --resource-script %s %s" % (name, LISTEN)


def text(port, path="/", **kw):
    status, content = body(port, path, **kw)
    assert status == 200, (path, status, content)
    return content


def leaveEarly(port):
    """Ask for / and hang up after the first bytes of the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while b"hello world" not in received:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk


def checkNotifyFinish(run):
    leaveEarly(run.port)
    run.waitOutput("[Failure instance: ConnectionDone: Connection was closed cleanly.] error")


def checkNotifyCancel(run):
    leaveEarly(run.port)
    run.waitOutput("client left: Connection was closed cleanly.")


def checkSession(run):
    status, headers, data = get(run.port, "/")
    assert status == 200 and data.startswith(b"Visit number 1 of session ")
    cookie = headers["Set-Cookie"].split(";")[0]
    assert get(run.port, "/", headers={"Cookie": cookie})[2].startswith(b"Visit number 2 ")


def checkForwardProxy(run):
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", run.port, timeout=10)
    connection.request("GET", "http://127.0.0.1:%d/hello" % run.origin)
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"hello from the origin\n")
    connection.close()


def checkPrinted(name):
    """The script prints its .out file (normalised, as tests/test_docs.py compares it)."""
    def check(run):
        with open(os.path.join(EXAMPLES, name[:-3] + ".out"), encoding="utf-8") as f:
            assert normalised(run.output) == f.read()
    return check


def checkDaemon(run):
    """web_start.sh's daemon serves, and web_stop.sh's printed command stops it."""
    pid = int((run.cwd / "refweb.pid").read_text())
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(AssertionError, OSError):
                assert "Welcome to htdocs" in text(run.port)
                break
            time.sleep(0.1)
        assert "Welcome to htdocs" in text(run.port)
        stop, = shellCommands((run.cwd / "web_stop.sh").read_text())
        subprocess.run(["bash", "-c", stop], cwd=str(run.cwd), check=True, timeout=30)
        assert waitGone(pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)


def checkPersonal(run):
    assert waitFile(str(run.home / ".refweb-web-pb")), run.proc.output()


def checkPorts(run):
    for port in run.ports:
        assert "Welcome to htdocs" in text(port)


def withCurlHTTP2(run):
    from tests.test_docs import curlSpeaksHTTP2
    if not curlSpeaksHTTP2():
        pytest.skip("this curl has no HTTP/2")


def withH2Server(run):
    """curl's server: h2_serve.sh's command, on PORT."""
    withCurlHTTP2(run)
    run.start("python -m refweb -n web --path htdocs --wire " + LISTEN, port=run.port)


def withCertificate(run):
    if not os.access("/usr/bin/openssl", os.X_OK):
        pytest.skip("needs openssl")
    makeCert = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 " \
        "-keyout key.pem -out cert.pem"
    subprocess.run(["bash", "-c", makeCert], cwd=str(run.cwd), check=True,
                   capture_output=True, timeout=60)


def withTLSServer(run):
    withCurlHTTP2(run)
    withCertificate(run)
    run.start(TLS_SERVE, port=run.port)


def checkH2(tls):
    """The server answers over HTTP/2 (with --wire, it logs the frames)."""
    def check(run):
        from tests.test_docs import h2Get
        assert h2Get(run.port, "/notes/todo.txt", tls=tls)[0] == 200
        if not tls:
            run.waitOutput("<< DATA stream=1 len=0 flags=END_STREAM")
    return check


TLS_SERVE = ("python -m refweb -n web --path htdocs --listen "
             "ssl:${PORT:-8443}:privateKey=key.pem:certKey=cert.pem:interface=127.0.0.1")


class Case:
    """How to run one command and what to check.  ``serve``: it keeps running
    and listens on PORT (or on ``ports``); otherwise it runs to its end."""

    def __init__(self, check, cwd=".", serve=True, needs=None, setup=None):
        self.check, self.cwd, self.serve, self.needs, self.setup = check, cwd, serve, needs, setup


def served200(path, expected):
    return lambda run: (expected in text(run.port, path)) or pytest.fail(text(run.port, path))


def hostText(host, path, expected):
    return lambda run: (expected in text(run.port, path, headers={"Host": host})
                        or pytest.fail(text(run.port, path, headers={"Host": host})))


def withOrigin(run):
    run.origin = run.enter(originServer())
    run.env["ORIGIN_PORT"] = str(run.origin)


def withInternal(run):
    internal = freePort()
    command = "python -m refweb -n web --path htdocs --listen tcp:%d:interface=127.0.0.1" % internal
    run.start(command, port=internal)
    run.env["INTERNAL_PORT"] = str(internal)


def withPortsFile(run):
    run.ports = [freePort(), freePort()]
    (run.cwd / "ports").write_text("%d\n%d\n" % tuple(run.ports))


def withHome(run):
    run.home = run.cwd.parent / "home"
    run.home.mkdir()
    run.env["HOME"] = str(run.home)


EXPECTED = {
    # chapter 1 and the quickstart
    "python first_site.py": Case(served200("/any/path", "<html>Hello, world!</html>")),
    resourceScript("hello_tree.py"): Case(
        served200("/fred", "Hello, world! I am located at ['fred'].")),
    "python trace_hello.py": Case(checkPrinted("trace_hello.py"), serve=False),
    "python -m refweb -n web --path . " + LISTEN: Case(
        served200("/", "<h1>Welcome to htdocs</h1>"), cwd="htdocs"),
    "python -m refweb -n web --path htdocs --trace --wire " + LISTEN: Case(
        served200("/notes/todo.txt", "- read the guide")),
    # chapter 2: rendering
    resourceScript("render_methods.py"): Case(
        served200("/?name=Ada", "<p>Hello, Ada (by GET)</p>")),
    resourceScript("render_later.py"): Case(served200("/", "Wait for it...\n...done.\n")),
    resourceScript("render_errors.py"): Case(
        lambda run: (text(run.port) == "Ask for /secret if you dare.\n"
                     and body(run.port, "/secret")[0] == 403) or pytest.fail("render_errors")),
    # chapters 3 and 4: encoders, sessions
    "python gzip_site.py": Case(served200("/", "<html>Hello, world!</html>")),
    resourceScript("session_counter.py"): Case(checkSession),
    # chapter 5: proxies
    "python proxy_forward.py": Case(checkForwardProxy, setup=withOrigin),
    "python proxy_reverse.py": Case(served200("/hello", "hello from the origin\n"),
                                    setup=withOrigin),
    # chapter 6: .tac files
    "python -m refweb -ny static_root.tac": Case(served200("/", "Welcome to htdocs")),
    "python -m refweb -ny hello.tac": Case(
        served200("/fred/", "Hello, world! I am located at ['fred', ''].")),
    "python -m refweb tree hello.tac": Case(
        lambda run: run.output.replace(str(run.port), "8080")  # the .tac reads PORT
        == (run.cwd / "tree_hello.out").read_text() or pytest.fail(run.output), serve=False),
    "python doc_child.py": Case(served200("/doc/README.txt", "The /doc child of the site")),
    "python cgi_bin.py": Case(served200("/cgi-bin/hello.cgi/extra?x=1", "path_info=/extra")),
    # chapter 7: static files
    "python -m refweb -ny index_rpy.tac": Case(
        lambda run: ("<h1>rpysite</h1>" in text(run.port)
                     and "clock says" in text(run.port, "/clock.rpy"))
        or pytest.fail("index_rpy")),
    "python -m refweb -ny ignore_ext.tac": Case(served200("/clock", "The server's clock says ")),
    # chapter 8: virtual hosts
    "python -m refweb -ny vhosts.tac": Case(hostText("foo.com", "/", "<h1>foo.com</h1>")),
    "python -m refweb -ny vhosts_listdir.tac": Case(hostText("bar.com", "/", "<h1>bar.com</h1>")),
    "python -m refweb -ny ports.tac": Case(checkPorts, setup=withPortsFile),
    # chapter 9: the web command
    "python -m refweb web --path htdocs " + LISTEN: Case(checkDaemon, serve=False),
    "python -m refweb -n web --path htdocs " + LISTEN: Case(
        served200("/counter.rpy", "you are visitor 1")),
    "python -m refweb web --help": Case(
        lambda run: "--resource-script" in run.output or pytest.fail(run.output), serve=False),
    # chapter 11: the distributed server
    "python -m refweb -n web --personal --path htdocs": Case(
        checkPersonal, setup=withHome, serve=False),
    "python -m refweb -n web --user " + LISTEN: Case(
        lambda run: body(run.port, "/")[0] == 200 or pytest.fail("user")),
    "python distrib_by_hand.py": Case(served200("/alice.refweb/", "Welcome to htdocs")),
    # chapter 12: CGI
    resourceScript("perl.rpy"): Case(served200("/", "Hello from Perl; you asked for /"),
                                     needs="/usr/bin/perl"),
    # chapter 13: WSGI
    "python -m refweb -n web --wsgi=helloworld.application " + LISTEN: Case(
        served200("/", "Hello World!")),
    "python -m refweb -ny wsgi_hello.tac": Case(served200("/anything", "Hello World!")),
    # chapter 14: VHostMonster
    "python -m refweb -n web --path htdocs --listen tcp:${PORT:-8538}:interface=127.0.0.1": Case(
        lambda run: get(run.port, "/vhost.rpy/http/example.com:80/notes")[1]["Location"]
        == "http://example.com/notes/" or pytest.fail("vhost.rpy")),
    "python -m refweb --pidfile front.pid -ny vhost_proxy.tac": Case(
        hostText("example.com", "/notes/todo.txt", "- read the guide"), setup=withInternal),
    # chapter 15: rewriting
    resourceScript("rewrite_tilde.py"): Case(served200("/~foo/bar.html", "<h1>foo's page</h1>")),
    # chapter 16: notifyFinish
    resourceScript("notify_finish.py"): Case(checkNotifyFinish),
    resourceScript("notify_cancel.py"): Case(checkNotifyCancel),
    # chapter 17: as-is
    "python asis_site.py": Case(served200("/hello.asis", "Hello world")),
    # chapter 18: HTTP/2
    "python h2_by_hand.py": Case(checkPrinted("h2_by_hand.py"), serve=False),
    "python -m refweb -n web --path htdocs --wire " + LISTEN: Case(checkH2(tls=False)),
    "curl -s --http2-prior-knowledge http://127.0.0.1:${PORT:-8080}/notes/todo.txt": Case(
        lambda run: run.output == "- read the guide\n- read refweb/resource.py\n"
        or pytest.fail(run.output), serve=False, setup=withH2Server),
    "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout key.pem "
    "-out cert.pem": Case(lambda run: (run.cwd / "key.pem").exists() or pytest.fail("no key"),
                          serve=False, needs="/usr/bin/openssl"),
    TLS_SERVE: Case(checkH2(tls=True), setup=withCertificate),
    "curl -sk --http2 -o /dev/null -w '%{http_version}\\n' https://127.0.0.1:${PORT:-8443}/":
        Case(lambda run: run.output == "2\n" or pytest.fail(run.output), serve=False,
             setup=withTLSServer),
    # internals
    "python watch_hello.py": Case(checkPrinted("watch_hello.py"), serve=False),
    "bash cli_mistakes.sh": Case(checkPrinted("cli_mistakes.sh"), serve=False),
    "python thread_names.py": Case(checkPrinted("thread_names.py"), serve=False),
    "python wire_by_hand.py": Case(checkPrinted("wire_by_hand.py"), serve=False),
}

NOT_RUN = {
    # write-your-own-server.rst: the report excerpt; its output is compared
    # with a fresh run by tests/test_docs.py (the grader's own test).
    "python -m refweb.reference --impl command --command 'python3 learner_server.py {port} "
    "{root} {site}' -k trees.putChild_child_found -k trees.request_uri_and_path "
    "-k framing.status_line_http11 -k framing.keepalive_default_http11 -v":
        "run by tests/test_docs.py, which compares its output with the page's excerpt",
    # web_stop.sh is run by web_start.sh's case, against the daemon that started.
    "kill `cat refweb.pid`": "run by checkDaemon, after web_start.sh's command",
    # write-your-own-server.rst: these install or run whole suites.
    "test -x ~/twisted-venv/bin/python || { python3 -m venv ~/twisted-venv && "
    "~/twisted-venv/bin/pip install -q twisted; }":
        "installs Twisted from PyPI into ~ (network, minutes); "
        "tests/test_docs.py::test_reference_compare_script runs the script when "
        "REFWEB_TWISTED_PYTHON is set",
    "python -m refweb.reference --impl refweb --impl twisted --twisted-python "
    "~/twisted-venv/bin/python \"$@\"":
        "needs Twisted (see above); tests/test_docs.py::test_reference_compare_script",
    "python -m refweb.reference --impl command --command "
    "'python3 learner_server.py {port} {root} {site}' \"$@\"":
        "the whole reference suite (minutes); tests/test_docs.py::"
        "test_learner_server_through_reference_suite runs it on one chapter",
}


def test_every_printed_command_is_run():
    """Each command printed in docs/ has an entry here (run below, or not run
    with a reason), and each entry is a command the docs still print."""
    printed = set(printedCommands())
    known = set(EXPECTED) | set(NOT_RUN)
    assert not printed - known, "commands with no test: %r" % sorted(printed - known)
    assert not known - printed, "entries for commands no page prints: %r" % sorted(known - printed)
    assert len(NOT_RUN) <= 5


def test_every_example_file_that_serves_says_how():
    """Each included .py and .tac example (the WSGI module and the learner's
    server excepted: a command beside them runs them) starts with its command."""
    silent = []
    for path in includedFiles():
        name = os.path.relpath(path, EXAMPLES)
        if name.endswith((".py", ".tac")) and os.sep not in name \
                and name not in ("helloworld.py", "learner_server.py"):
            with open(path, encoding="utf-8") as f:
                if not RUN_LINE.search(f.read()):
                    silent.append(name)
    assert not silent, silent


def originServer():
    """A small origin: /hello, as tests/test_docs.py's proxy tests use."""
    root = static.Data(b"origin root\n", "text/plain")
    root.isLeaf = False
    root.putChild("hello", static.Data(b"hello from the origin\n", "text/plain"))
    return served(root)


class Run:
    """One printed command being run: its folder, environment and processes."""

    def __init__(self, procs, cwd, stack):  # noqa: F811 (the fixture, passed in)
        self.procs, self.cwd, self.stack = procs, cwd, stack
        self.port = freePort()
        self.env = {"PORT": self.port}
        self.output = ""
        self.proc = None

    def enter(self, context):
        return self.stack.enter_context(context)

    def start(self, command, port=None):
        proc = self.procs.start(["bash", "-c", command], self.cwd, **self.env)
        if port is not None:
            proc.waitPort(port)
        return proc

    def waitOutput(self, wanted, timeout=15.0):
        deadline = time.monotonic() + timeout
        while wanted not in self.proc.output():
            assert time.monotonic() < deadline, self.proc.output()
            time.sleep(0.05)


@pytest.mark.parametrize("command", sorted(EXPECTED))
def test_printed_command_serves_what_its_chapter_says(command, procs, workdir):  # noqa: F811
    """The command, run as printed from the folder its comment names, serves
    (or prints) what its chapter says; then it is stopped."""
    case = EXPECTED[command]
    if case.needs and not os.access(case.needs, os.X_OK):
        pytest.skip("%s is not installed" % case.needs)
    with contextlib.ExitStack() as stack:
        run = Run(procs, workdir / case.cwd, stack)
        if case.setup:
            case.setup(run)
        if case.serve or case.setup is withHome:
            port = None if (case.setup is withPortsFile or not case.serve) else run.port
            run.proc = run.start(command, port=port)
            if case.setup is withPortsFile:
                for each in run.ports:
                    run.proc.waitPort(each)
        else:
            status, run.output = procs.run(["bash", "-c", command], run.cwd, timeout=60,
                                           **run.env)
            assert status == 0, run.output
        case.check(run)
