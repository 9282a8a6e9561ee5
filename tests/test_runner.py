"""Tests for refweb.runner: the ``refweb`` command (twistd's job).

Most tests run the real command, ``python -m refweb ...``, in a temporary
folder with the checkout first on PYTHONPATH, and talk to it with real
clients.  Every process gets a deadline and is killed in a finally block,
daemons included (found through their pid file).

Set REFWEB_SUBPROCESS_COVERAGE=/abs/path/.coverage to run each command under
``coverage run --parallel-mode`` (then ``coverage combine``).
"""

import contextlib
import http.client
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest

from refweb import runner
from tests.support import freePort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COVERAGE = os.environ.get("REFWEB_SUBPROCESS_COVERAGE")
DEADLINE = 20.0  # seconds any one command may take to start, answer or stop


# -- helpers (test_tap.py uses them too) -------------------------------------

def refwebArgv(*args):
    """The command line of ``python -m refweb ARGS`` (under coverage if asked)."""
    if COVERAGE:
        return [sys.executable, "-m", "coverage", "run", "--parallel-mode",
                "--data-file=" + COVERAGE, "--include=%s/refweb/*" % ROOT,
                "-m", "refweb", *args]
    return [sys.executable, "-m", "refweb", *args]


def childEnv(**extra):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [env.get("PYTHONPATH")] if p])
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def runRefweb(*args, cwd, env=None, timeout=DEADLINE):
    """Run the command to its end: (exit status, stdout, stderr)."""
    done = subprocess.run(refwebArgv(*args), cwd=str(cwd), env=childEnv(**(env or {})),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def fetch(port, path="/", headers=None, context=None):
    """GET over a fresh connection: (status, headers, body)."""
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def portOpen(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def waitFor(predicate, timeout=DEADLINE, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def pidAlive(pid):
    from refweb.internet.endpoints import processAlive
    return processAlive(pid)


class Foreground:
    """``refweb -n ...`` as a child process; output collected in a file."""

    def __init__(self, args, cwd, env=None):
        self.cwd = str(cwd)
        self.logPath = os.path.join(self.cwd, "_output.txt")
        with open(self.logPath, "wb") as out:
            self.popen = subprocess.Popen(refwebArgv(*args), cwd=self.cwd,
                                          env=childEnv(**(env or {})),
                                          stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True)

    def output(self):
        with open(self.logPath, errors="replace") as f:
            return f.read()

    def waitPort(self, port):
        def ready():
            if self.popen.poll() is not None:
                raise AssertionError("refweb exited:\n" + self.output())
            return portOpen(port)
        waitFor(ready, what="port %d\n%s" % (port, self.output()))

    def waitOutput(self, pattern):
        waitFor(lambda: re.search(pattern, self.output()), what=pattern)

    def terminate(self):
        """SIGTERM, as `kill` sends; the exit status."""
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=DEADLINE)

    def kill(self):
        if self.popen.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=DEADLINE)


@contextlib.contextmanager
def foreground(*args, cwd, port=None, env=None):
    """Start ``refweb -n ARGS``, wait for ``port``, yield it; always kill it."""
    server = Foreground(("-n",) + args, cwd, env)
    try:
        if port is not None:
            server.waitPort(port)
        yield server
    finally:
        server.kill()


def killDaemon(cwd, pidfile="refweb.pid"):
    """Last-resort cleanup: SIGKILL the daemon a pid file names."""
    with contextlib.suppress(OSError, ValueError):
        with open(os.path.join(str(cwd), pidfile)) as f:
            pid = int(f.read())
        if pid > 1 and pid != os.getpid():  # never this test run itself
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def livePidFile(path):
    """A pid file naming a live (sleeping) process, which is killed afterwards."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path.write_text("%d\n" % sleeper.pid)
        yield sleeper.pid
    finally:
        sleeper.kill()
        sleeper.wait()
        path.unlink()


@pytest.fixture
def site(tmp_path):
    """A folder to serve, with a.txt."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "a.txt").write_text("alpha\n")
    return folder


@pytest.fixture
def run(tmp_path):
    """The folder commands run in (pid file and log land here)."""
    folder = tmp_path / "run"
    folder.mkdir()
    yield folder
    killDaemon(folder)


TAC = """\
from refweb.application import internet, service
from refweb import static, server
application = service.Application('web')
internet.TCPServer(%d, server.Site(static.File(%r))).setServiceParent(
    service.IServiceCollection(application))
"""


# -- usage: help, version, errors --------------------------------------------

def test_help_lists_every_global_option(tmp_path):
    """`refweb --help` exits 0 with a twistd-shaped usage line and every option."""
    rc, out, err = runRefweb("--help", cwd=tmp_path)
    assert rc == 0 and err == ""
    assert out.startswith("Usage: refweb [options]")
    for option in ("-n, --nodaemon", "-y, --python=", "--pidfile=", "-l, --logfile=",
                   "--umask=", "-d, --rundir=", "--help", "--version", "web"):
        assert option in out, option


def test_version(tmp_path):
    """`refweb --version` prints the version and exits 0."""
    import refweb
    rc, out, _ = runRefweb("--version", cwd=tmp_path)
    assert rc == 0 and refweb.__version__ in out


@pytest.mark.parametrize("args, words", [
    (["--frobnicate"], "--frobnicate"),
    (["-q"], "-q"),
    (["web", "--frobnicate"], "--frobnicate"),
    (["web", "--listen"], "requires argument"),
    (["web", "extra"], "unexpected argument 'extra'"),
    (["serve"], "unknown command 'serve'"),
    ([], "nothing to run"),
    (["-y", "x.tac", "web"], "not both"),
    (["--umask", "9x", "web"], "octal"),
])
def test_usage_errors_are_one_line(tmp_path, args, words):
    """A wrong command line gives exit 1 and one line on stderr, never a traceback."""
    rc, out, err = runRefweb(*args, cwd=tmp_path)
    assert rc == 1
    assert words in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1, err
    assert "--help" in err


def test_bad_endpoint_on_the_command_line(tmp_path):
    """A bad --listen description is a usage error quoting it and the expected form."""
    rc, out, err = runRefweb("web", "--listen", "tcp:eighty", cwd=tmp_path)
    assert rc == 1 and "Traceback" not in err
    assert "'tcp:eighty'" in err and "tcp:PORT" in err


def test_parse_command_line_in_process():
    """parseCommandLine: -ny bundles, paths become absolute, defaults as twistd's."""
    config = runner.parseCommandLine(["-ny", "app.tac"])
    assert config.nodaemon and config.tacFile == os.path.abspath("app.tac")
    assert config.pidfile == os.path.abspath("refweb.pid") and config.logfile == "-"
    config = runner.parseCommandLine(["--pidfile", "", "-l", "x.log", "--umask", "022",
                                      "web", "--path", "."])
    assert config.pidfile == "" and config.logfile == os.path.abspath("x.log")
    assert config.umask == 0o022 and not config.nodaemon and config.command == "web"
    assert runner.parseCommandLine(["web", "--help"]).startswith("Usage: refweb [options] web")


def test_main_usage_error_exits_1(capsys):
    """main() turns a usage error into exit status 1 and one stderr line."""
    with pytest.raises(SystemExit) as info:
        runner.main(["--nope"])
    assert info.value.code == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_main_help_exits_0(capsys):
    """main(['--help']) prints the help and exits 0."""
    with pytest.raises(SystemExit) as info:
        runner.main(["--help"])
    assert info.value.code == 0 and "Usage: refweb" in capsys.readouterr().out


# -- the foreground: refweb -n -----------------------------------------------

def test_foreground_web_path(site, run):
    """`refweb -n web --path DIR` serves DIR, logs to stdout, writes then removes refweb.pid."""
    port = freePort()
    with foreground("web", "--path", str(site), "--listen", "tcp:%d" % port,
                    cwd=run, port=port) as server:
        status, headers, body = fetch(port, "/a.txt")
        assert (status, body) == (200, b"alpha\n")
        server.waitOutput(r'"GET /a\.txt HTTP/1\.1" 200')
        with open(run / "refweb.pid") as f:
            assert int(f.read()) == server.popen.pid
        assert server.terminate() == 0
        assert not portOpen(port)
        assert not os.path.exists(run / "refweb.pid")
        assert "stopped" in server.output()


def test_served_current_folder_hides_the_pid_file(site):
    """`refweb -n web --path .` in the folder it serves: its refweb.pid is written
    there but neither listed nor served."""
    port = freePort()
    with foreground("web", "--path", ".", "--listen", "tcp:%d" % port, cwd=site,
                    port=port):
        assert os.path.exists(site / "refweb.pid")
        status, _, listing = fetch(port, "/")
        assert status == 200 and b"a.txt" in listing and b"refweb.pid" not in listing
        assert fetch(port, "/refweb.pid")[0] == 404


def test_unix_listen_error_names_the_path_once(run):
    """A unix: endpoint that cannot be bound names its path with one colon after it."""
    rc, out, err = runRefweb("-n", "--pidfile", "", "web", "--listen",
                             "unix:/nonexistent-dir/sock", cwd=run)
    assert rc == 1
    assert "Couldn't listen on /nonexistent-dir/sock: No such file or directory." in err
    assert "::" not in err


def test_foreground_tac(site, run):
    """`refweb -ny app.tac` runs the application the .tac defines, in the foreground."""
    port = freePort()
    tac = run / "app.tac"
    tac.write_text(TAC % (port, str(site)))
    with foreground("-y", str(tac), cwd=run, port=port) as server:
        assert fetch(port, "/a.txt")[2] == b"alpha\n"
        assert server.terminate() == 0


def test_foreground_port_in_use(run):
    """A port already taken: exit 1 with one line naming the port, no pid file left."""
    blocker = socket.socket()
    blocker.bind(("0.0.0.0", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        rc, out, err = runRefweb("-n", "web", "--listen", "tcp:%d" % port, cwd=run)
    finally:
        blocker.close()
    assert rc == 1 and str(port) in err and "Traceback" not in err
    assert not os.path.exists(run / "refweb.pid")


def test_foreground_refuses_live_pidfile(run):
    """-n also refuses to start beside a refweb.pid naming a live process."""
    with livePidFile(run / "refweb.pid") as pid:
        rc, _, err = runRefweb("-n", "web", "--listen", "tcp:%d" % freePort(), cwd=run)
        assert rc == 1 and "still running" in err and str(pid) in err
        assert (run / "refweb.pid").read_text() == "%d\n" % pid


def test_foreground_no_pidfile_and_logfile(site, run):
    """--pidfile '' writes no pid file; -l FILE sends the log there instead of stdout."""
    port = freePort()
    with foreground("--pidfile", "", "-l", "server.log", "web", "--path", str(site),
                    "--listen", "tcp:%d" % port, cwd=run, port=port) as server:
        fetch(port, "/a.txt")
        waitFor(lambda: "a.txt" in (run / "server.log").read_text(), what="log line")
        assert not os.path.exists(run / "refweb.pid")
        assert "a.txt" not in server.output()
        assert server.terminate() == 0


def test_foreground_rundir(site, run):
    """-d DIR changes folder before running; a relative --pidfile stays where it was given."""
    other = run / "elsewhere"
    other.mkdir()
    port = freePort()
    with foreground("-d", str(other), "--umask", "022", "web", "--path", str(site), "--listen",
                    "tcp:%d" % port, cwd=run, port=port) as server:
        assert os.path.exists(run / "refweb.pid")
        assert server.terminate() == 0


# -- the daemon ----------------------------------------------------------------

def startDaemon(args, cwd, env=None):
    """Run a daemonizing command: it must exit 0 and leave a pid file; the pid."""
    rc, out, err = runRefweb(*args, cwd=cwd, env=env)
    assert rc == 0, (out, err)
    with open(os.path.join(str(cwd), "refweb.pid")) as f:
        return int(f.read())


def test_daemon_start_and_stop(site, run):
    """`refweb web` daemonizes: exits 0 once listening; kill `cat refweb.pid` stops it cleanly."""
    port = freePort()
    pid = startDaemon(["web", "--path", str(site), "--listen", "tcp:%d" % port], run)
    assert pidAlive(pid)
    assert fetch(port, "/a.txt")[2] == b"alpha\n"  # bound before the command returned
    log = run / "refweb.log"
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600  # twistd's daemon umask 0077
    subprocess.run(["sh", "-c", "kill `cat refweb.pid`"], cwd=str(run), timeout=10)
    waitFor(lambda: not pidAlive(pid), what="daemon exit")
    assert not portOpen(port)
    assert not os.path.exists(run / "refweb.pid")
    text = log.read_text()
    assert "a.txt" in text and "listening on tcp:" in text and "stopped" in text


def test_daemon_refuses_live_pidfile(site, run):
    """A second daemon in the same folder is refused while the first runs."""
    port = freePort()
    pid = startDaemon(["web", "--path", str(site), "--listen", "tcp:%d" % port], run)
    rc, out, err = runRefweb("web", "--listen", "tcp:%d" % freePort(), cwd=run)
    assert rc == 1 and "still running" in err and str(pid) in err
    assert int((run / "refweb.pid").read_text()) == pid


def test_daemon_replaces_stale_pidfile(site, run):
    """A refweb.pid naming a dead process is replaced, and the log says so."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (run / "refweb.pid").write_text("%d\n" % dead.pid)
    port = freePort()
    pid = startDaemon(["web", "--path", str(site), "--listen", "tcp:%d" % port], run)
    assert pid != dead.pid and pidAlive(pid)
    assert "stale pid file" in (run / "refweb.log").read_text()


def test_unreadable_pidfile_is_stale(site, run):
    """A refweb.pid that holds no number is treated as stale and replaced."""
    (run / "refweb.pid").write_text("garbage\n")
    port = freePort()
    with foreground("web", "--listen", "tcp:%d" % port, cwd=run, port=port) as server:
        assert int((run / "refweb.pid").read_text()) == server.popen.pid
        assert server.terminate() == 0


def test_daemon_reports_port_in_use(run):
    """A daemon that cannot bind reports it: the command prints the error and exits 1."""
    blocker = socket.socket()
    blocker.bind(("0.0.0.0", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        rc, out, err = runRefweb("web", "--listen", "tcp:%d" % port, cwd=run)
    finally:
        blocker.close()
    assert rc == 1 and str(port) in err and "Traceback" not in err
    assert not os.path.exists(run / "refweb.pid")
    assert str(port) in (run / "refweb.log").read_text()


def test_daemon_tac(site, run):
    """`refweb -y app.tac` daemonizes the .tac's application."""
    port = freePort()
    tac = run / "app.tac"
    tac.write_text(TAC % (port, str(site)))
    pid = startDaemon(["-y", str(tac)], run)
    assert fetch(port, "/a.txt")[2] == b"alpha\n"
    os.kill(pid, signal.SIGTERM)
    waitFor(lambda: not pidAlive(pid), what="daemon exit")


def test_daemon_umask_and_logfile_options(run):
    """--umask 022 and -l FILE apply to the daemon."""
    port = freePort()
    startDaemon(["--umask", "022", "-l", "web.log", "web", "--listen", "tcp:%d" % port], run)
    assert stat.S_IMODE(os.stat(run / "web.log").st_mode) == 0o644
    assert not os.path.exists(run / "refweb.log")


@pytest.mark.parametrize("text, expected", [
    ("x = 1\n", "does not define 'application'"),
    ("from refweb.application import service\napplication = service.Application('x'\n",
     "app.tac, line 2: SyntaxError"),
    ("import os\n\nnot_defined()\n", "app.tac, line 3: NameError"),
])
@pytest.mark.parametrize("mode", ["-y", "-ny"])
def test_bad_tac_is_one_line_error(run, text, expected, mode):
    """A failing .tac (no application, bad syntax, exception): exit 1, one line
    naming it (and, if the file raised, a second pointing at --traceback)."""
    tac = run / "app.tac"
    tac.write_text(text)
    rc, out, err = runRefweb(mode, str(tac), cwd=run)
    assert rc == 1
    lines = err.strip().splitlines()
    assert expected in lines[0] and "app.tac" in lines[0], err
    hint = "refweb: (for the whole traceback, run it again with refweb --traceback ...)"
    if "SyntaxError" in expected:  # the line Python could not read is shown
        assert lines[1:] == ["    application = service.Application('x'", hint]
    else:
        assert lines[1:] == ([] if "does not" in expected else [hint])
    assert "Traceback" not in err
    assert not os.path.exists(run / "refweb.pid")


# -- endpoints from the command line ------------------------------------------

def test_unix_socket_mode_and_stale_lock_after_kill(site, run):
    """unix:PATH:mode=0660:wantPID=1 -- after kill -9 the next start cleans the stale socket."""
    path = str(run / "web.sock")
    args = ("web", "--path", str(site), "--listen", "unix:%s:mode=0660:wantPID=1" % path)

    def answers():
        with contextlib.suppress(OSError):
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(path)
                s.sendall(b"GET /a.txt HTTP/1.0\r\n\r\n")
                return b"alpha" in s.recv(4096)
        return False

    with foreground(*args, cwd=run) as first:
        waitFor(answers, what="unix socket")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
        assert int(open(path + ".lock").read()) == first.popen.pid
        os.killpg(first.popen.pid, signal.SIGKILL)
        first.popen.wait(timeout=DEADLINE)
    assert os.path.exists(path)  # a crash cleans nothing up
    with foreground(*args, cwd=run) as second:
        waitFor(answers, what="restarted unix socket")
        assert second.terminate() == 0
    assert not os.path.exists(path) and not os.path.exists(path + ".lock")


def test_unix_socket_live_owner_refused(site, run):
    """A second server on a wantPID socket whose owner lives is refused with exit 1."""
    path = str(run / "web.sock")
    desc = "unix:%s:wantPID=1" % path
    with foreground("--pidfile", "one.pid", "web", "--listen", desc, cwd=run) as first:
        waitFor(lambda: os.path.exists(path + ".lock"), what="lock")
        rc, out, err = runRefweb("-n", "--pidfile", "two.pid", "web", "--listen", desc,
                                 cwd=run)
        assert rc == 1 and "in use by pid %d" % first.popen.pid in err


def test_personal_default_socket(site, tmp_path):
    """--personal listens on ~/.refweb-web-pb (from $HOME) with mode 0600."""
    home = tmp_path / "home"
    home.mkdir()
    sock = home / ".refweb-web-pb"
    with foreground("web", "--personal", "--path", str(site), cwd=tmp_path,
                    env={"HOME": str(home)}):
        waitFor(lambda: os.path.exists(sock), what="personal socket")
        assert stat.S_ISSOCK(os.stat(sock).st_mode)
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600


def test_tls_listen_and_https_option(site, run, tmp_path):
    """--listen ssl:... and --https PORT -c CERT -k KEY both serve over TLS."""
    import ssl
    from test_endpoints import makeCertificate
    key, cert = makeCertificate(str(tmp_path))
    context = ssl.create_default_context(cafile=cert)
    first, second = freePort(), freePort()
    with foreground("web", "--path", str(site),
                    "--listen", "ssl:%d:privateKey=%s:certKey=%s" % (first, key, cert),
                    "--https", str(second), "-c", cert, "-k", key, cwd=run) as server:
        server.waitPort(first)
        server.waitPort(second)
        for port in (first, second):
            assert fetch(port, "/a.txt", context=context)[2] == b"alpha\n"


def test_tls_missing_key_is_reported(run, tmp_path):
    """An ssl endpoint whose key file is missing: exit 1 naming the file."""
    rc, out, err = runRefweb("-n", "web", "--listen",
                             "ssl:%d:privateKey=%s" % (freePort(), tmp_path / "gone.pem"),
                             cwd=run)
    assert rc == 1 and "gone.pem" in err and "Traceback" not in err


# -- the user's own code failing at start ----------------------------------------

BROKEN = "import os\n\ndef app(environ start_response):\n    pass\n"
RAISES = "import helper_mod\n\nhelper_mod.fail()\n"
HELPER = "def fail():\n    raise ValueError('no config file here\\nsecond line')\n"


@pytest.fixture
def userCode(run):
    """A run folder holding broken.py (a SyntaxError on line 3), raises.py
    (raising on line 3 through helper_mod.py, line 2), and small wrappers."""
    (run / "broken.py").write_text(BROKEN)
    (run / "raises.py").write_text(RAISES)
    (run / "helper_mod.py").write_text(HELPER)
    (run / "app.tac").write_text("import raises\n")
    (run / "page.rpy").write_text("import raises\n")
    (run / "cls.py").write_text("class Page:\n    def __init__(self):\n"
                                "        import raises\n")
    (run / "obs.py").write_text("import raises\n")
    return run


def test_syntax_error_in_wsgi_module_is_short(userCode):
    """--wsgi naming a module with a SyntaxError: at most 6 lines naming
    broken.py and the line, no traceback, a non-zero exit."""
    rc, out, err = runRefweb("-n", "--pidfile", "", "web", "--wsgi", "broken.app",
                             "--listen", "tcp:%d" % freePort(), cwd=userCode)
    lines = (out + err).strip().splitlines()
    assert rc != 0 and 1 <= len(lines) <= 6, out + err
    assert "broken.py, line 3: SyntaxError" in err and "--wsgi broken.app" in err
    assert "Traceback" not in out + err


def test_daemon_reports_the_user_code_failing(userCode):
    """Without -n the foreground prints the daemon's report as it is: the same
    lines, and with --traceback the traceback first."""
    rc, out, err = runRefweb("web", "--wsgi", "broken.app", "--listen",
                             "tcp:%d" % freePort(), cwd=userCode)
    assert rc == 1 and err.startswith("refweb: cannot load --wsgi broken.app: broken.py, "
                                      "line 3: SyntaxError")
    rc, out, err = runRefweb("--traceback", "web", "--wsgi", "raises.app", "--listen",
                             "tcp:%d" % freePort(), cwd=userCode)
    assert rc == 1 and err.startswith("Traceback (most recent call last):\n")
    assert not os.path.exists(userCode / "refweb.pid")


@pytest.mark.parametrize("args, where", [
    (("web", "--wsgi", "raises.app"), "--wsgi raises.app: raises.py, line 3"),
    (("-y", "app.tac"), "application: app.tac, line 1"),
    (("web", "--resource-script", "page.rpy"), "--resource-script page.rpy: page.rpy, line 1"),
    (("web", "--class", "cls.Page"), "--class cls.Page: cls.py, line 3"),
    (("--logger", "obs.factory", "web"), "--logger obs.factory: obs.py, line 1"),
])
def test_user_code_raising_at_start_is_short(userCode, args, where):
    """Whatever loads the user's code, an exception in it is one rule: what was
    loaded, the file and line, the exception's first line; --traceback adds
    the whole traceback."""
    common = ("-n", "--pidfile", "")
    listen = ("--listen", "tcp:%d" % freePort()) if "web" in args else ()
    rc, out, err = runRefweb(*(common + args + listen), cwd=userCode)
    assert rc != 0 and len((out + err).strip().splitlines()) <= 6, out + err
    assert "refweb: cannot load %s: ValueError: no config file here " \
           "(raised in helper_mod.py, line 2)" % (where,) in err
    assert "second line" not in err and "Traceback" not in out + err
    rc, out, err = runRefweb(*(common + ("--traceback",) + args + listen), cwd=userCode)
    assert rc != 0 and "Traceback (most recent call last)" in err
    assert 'helper_mod.py", line 2, in fail' in err


@pytest.mark.parametrize("args, words", [
    (("web", "--wsgi", "json.nosuchattr"), "json has no attribute nosuchattr"),
    (("web", "--wsgi", "fortytwo.app"), "--wsgi fortytwo.app is an integer, not a WSGI"),
    (("--logger=json.nosuch", "web"), "json has no attribute nosuch"),
    (("--logger=builtins.dict", "web"), "--logger builtins.dict() returned a dictionary, "
                                        "which cannot take log lines"),
    (("--logger=json.dumps", "web"), "cannot load --logger json.dumps: TypeError: dumps() "
                                     "missing 1 required positional argument: 'obj'\n"),
])
def test_messages_name_things_in_words(run, args, words):
    """Start-up messages say what a thing is in words, never a repr."""
    (run / "fortytwo.py").write_text("app = 42\n")
    rc, out, err = runRefweb("-n", "--pidfile", "", *args, cwd=run)
    assert rc == 1 and words in err, err
    assert "<" not in err and "is a int" not in err and "Traceback" not in out + err


# -- hints ---------------------------------------------------------------------------

def test_web_option_before_web_names_the_corrected_order(site, run):
    """`refweb -n --path DIR web` says which command line was meant."""
    rc, out, err = runRefweb("-n", "--path", str(site), "web", "--listen", "tcp:1",
                             cwd=run)
    assert rc == 1
    assert "did you mean `refweb -n web --path %s --listen tcp:1`?" % (site,) in err
    rc, out, err = runRefweb("--pidfile=x", "--path=%s" % (site,), cwd=run)
    assert "did you mean `refweb --pidfile=x web --path=%s`?" % (site,) in err


@pytest.mark.parametrize("args, hint", [
    (("web", "--pth", "."), "did you mean --path?"),
    (("web", "--wsig", "a.b"), "did you mean --wsgi?"),
    (("--nodeamon", "web"), "did you mean --nodaemon?"),
    (("-n", "--wsig", "a.b", "web"), "did you mean --wsgi? (an option of web: it goes "
                                     "after 'web')"),
])
def test_unknown_option_suggests_the_nearest(run, args, hint):
    """A misspelt option gets the nearest known one as a hint."""
    rc, out, err = runRefweb(*args, cwd=run)
    assert rc == 1 and hint in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("args", [("--help",), ("web", "--help")])
def test_help_ends_with_three_examples(tmp_path, args):
    """Both help pages end with example command lines: a folder, WSGI, a .tac."""
    rc, out, err = runRefweb(*args, cwd=tmp_path)
    examples = out[out.index("Examples:"):]
    commands = re.findall(r"^  (refweb .*)$", examples, re.M)
    assert rc == 0 and len(commands) == 3
    assert "--path" in commands[0] and "--wsgi" in commands[1] and ".tac" in commands[2]


# -- the background on purpose -------------------------------------------------------

def test_daemon_says_where_it_went(run):
    """Without -n, one line says the pid, the log, the pid file and how to stop it."""
    port = freePort()
    rc, out, err = runRefweb("web", "--listen", "tcp:%d" % port, cwd=run)
    pid = int((run / "refweb.pid").read_text())
    assert rc == 0 and err == ""
    assert out == ("refweb: serving in the background as process %d (log refweb.log, "
                   "pid file refweb.pid); stop it with: kill $(cat refweb.pid)  "
                   "(-n keeps it in the foreground)\n" % pid)
    subprocess.run(["sh", "-c", "kill $(cat refweb.pid)"], cwd=str(run), timeout=10)
    waitFor(lambda: not pidAlive(pid), what="daemon exit")
    quoted = re.search(r"refweb: serving in the background as process (\d+) .*",
                       _guide("09-the-web-command.rst"))
    assert quoted.group(0) == out.strip().replace(str(pid), quoted.group(1))


# -- the command-line modules import one way ----------------------------------------

def _importsOf(path):
    """The refweb modules a file imports (at any depth: lazy imports count)."""
    import ast
    with open(path) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(node.module + "." + alias.name for alias in node.names)
    return names


def test_command_line_modules_have_no_import_cycle():
    """runner, tap, process, options and application/* import one way: no cycle,
    lazy imports inside functions included."""
    app = os.path.join(ROOT, "refweb", "application")
    modules = {"refweb." + name: os.path.join(ROOT, "refweb", name + ".py")
               for name in ("runner", "tap", "process", "options")}
    modules.update({"refweb.application." + name[:-3]: os.path.join(app, name)
                    for name in os.listdir(app) if name.endswith(".py")
                    and name != "__init__.py"})
    graph = {name: {other for other in _importsOf(path) if other in modules and other != name}
             for name, path in modules.items()}

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, seen + (n,)))
                   for n in graph[start])
    cycles = sorted(name for name in graph if reaches(name, name))
    assert cycles == [], graph
    assert graph["refweb.options"] == set()  # the leaf


# -- shutdown that answers -------------------------------------------------------------

SLOW_PAGE = '''\
import time
from refweb import resource

class Page(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        time.sleep(60)
        return b"late"
'''

SLOW_WSGI = '''\
import time
from refweb.internet import reactor
reactor.shutdownGrace = 2.0

def app(environ, start_response):
    time.sleep(float(environ["QUERY_STRING"]))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done"]
'''


def _getInThread(port, path, results):
    def get():
        try:
            results.append(fetch(port, path)[0])
        except (OSError, http.client.HTTPException):
            results.append(None)
    thread = threading.Thread(target=get, daemon=True)
    thread.start()
    return thread


def test_second_ctrl_c_stops_a_blocked_render_at_once(run):
    """The first Ctrl-C says how many requests are in flight and how long they
    get; the second stops within a second, though a render sleeps, exit non-zero."""
    (run / "slowpage.py").write_text(SLOW_PAGE)
    port = freePort()
    with foreground("--pidfile", "", "web", "--class", "slowpage.Page", "--listen",
                    "tcp:%d" % port, cwd=run, port=port) as server:
        _getInThread(port, "/", [])
        time.sleep(0.5)  # the render is asleep
        server.popen.send_signal(signal.SIGINT)
        server.waitOutput("SIGINT: stopping")
        assert ("1 request in flight gets up to 10 s to finish; Ctrl-C again (or a "
                "second SIGTERM) stops at once." in server.output())
        started = time.monotonic()
        server.popen.send_signal(signal.SIGINT)
        status = server.popen.wait(timeout=DEADLINE)
        assert time.monotonic() - started < 1.0
        assert status != 0 and "SIGINT again: stopping at once" in server.output()
    guide = _guide("09-the-web-command.rst")
    for line in server.output().splitlines()[1:]:  # after "listening on"
        assert line.split(" ", 1)[1] in guide, line  # quoted as printed


def _guide(name):
    with open(os.path.join(ROOT, "docs", "guide", name), encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("seconds, answered, status", [("30", 0, 1), ("0.5", 30, 0)])
def test_shutdown_under_wsgi_ends_within_the_grace(run, seconds, answered, status):
    """SIGTERM with 30 WSGI requests in flight (20 pool threads): those that
    finish within shutdownGrace (2 s here) are answered, exit 0; if they
    cannot, the process still exits within the grace and a second, non-zero."""
    (run / "slowapp.py").write_text(SLOW_WSGI)
    port = freePort()
    with foreground("--pidfile", "", "web", "--wsgi", "slowapp.app", "--listen",
                    "tcp:%d" % port, cwd=run, port=port) as server:
        results = []
        clients = [_getInThread(port, "/?" + seconds, results) for _ in range(30)]
        time.sleep(1.0 if seconds == "30" else 0.2)  # every request reached the pool
        started = time.monotonic()
        server.popen.send_signal(signal.SIGTERM)
        assert server.popen.wait(timeout=DEADLINE) == status
        assert time.monotonic() - started < 2.0 + 1.0
        for client in clients:
            client.join(DEADLINE)
        assert results.count(200) == answered, server.output()
        if seconds == "30":
            assert "30 requests in flight get up to 2 s" in server.output()


STUCK_TAC = """\
import time
from refweb import server, static
from refweb.application import internet, service
from refweb.internet import reactor
reactor.shutdownGrace = 1.0

class Stuck(service.Service):
    def stopService(self):
        time.sleep(60)

application = service.Application("stuck")
Stuck().setServiceParent(application)
internet.TCPServer(%d, server.Site(static.Data(b"x", "text/plain"))).setServiceParent(
    application)
"""


def test_shutdown_never_outlasts_the_grace_by_a_second(run):
    """A service whose stopService never returns cannot hold the exit: the
    process ends within shutdownGrace (1 s here) and a second, exit non-zero."""
    port = freePort()
    (run / "stuck.tac").write_text(STUCK_TAC % port)
    with foreground("--pidfile", "", "-y", "stuck.tac", cwd=run, port=port) as server:
        started = time.monotonic()
        server.popen.send_signal(signal.SIGTERM)
        assert server.popen.wait(timeout=DEADLINE) == 1
        assert time.monotonic() - started < 1.0 + 1.0
        assert "outlasted shutdownGrace (1 s)" in server.output()

