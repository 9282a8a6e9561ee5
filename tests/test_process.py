"""Tests for refweb.process: twistd's global options, as ``refweb`` takes them.

Each option is tried through the real command (``python -m refweb ...``) where
what it does shows from outside: the ids a request is served with, the root
folder, the profile report, the log lines.  The syslog observer is tested in
this process, with the stdlib ``syslog`` functions replaced, because the
machine may have no syslog daemon to read back from.
"""

import contextlib
import os
import pstats
import pwd
import grp
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

from refweb import process, runner
from test_runner import (DEADLINE, ROOT, Foreground, childEnv, fetch, foreground, freePort,
                         runRefweb, waitFor)

# Every global option `twistd --help` lists (Twisted 26.10), short spellings too.
TWISTD_GLOBAL_OPTIONS = [
    "-b, --debug", "--chroot=", "-d, --rundir=", "-e, --encrypted", "--euid",
    "-f, --file=", "-g, --gid=", "--help", "--help-reactors", "-l, --logfile=",
    "--logger=", "-n, --nodaemon", "-o, --no_save", "--originalname", "-p, --profile=",
    "--pidfile=", "--prefix=", "--profiler=", "-r, --reactor=", "-s, --source=",
    "--savestats", "--spew", "--syslog", "-u, --uid=", "--umask=", "--version",
    "-y, --python=",
]

WHO_RPY = """\
import os
from refweb import resource
class R(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return "%d %d %d %d" % (os.getuid(), os.geteuid(), os.getgid(), os.getegid())
resource = R()
"""

LIB = """\
import os
from refweb import resource

class ListRoot(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return " ".join(sorted(os.listdir("/")))

class Broken(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        raise RuntimeError("kaboom-for-pdb")

class FileObserver:
    def __init__(self):
        self.file = open(os.environ["LOGGER_FILE"], "a")
    def __call__(self, line):
        self.file.write("custom| " + line + "\\n")
        self.file.flush()
"""

needsRoot = pytest.mark.skipif(os.getuid() != 0, reason="only root can change ids or chroot")


def nobodyIds():
    """(uid, gid) of nobody and nogroup, or skip where the system has neither."""
    try:
        return pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    except KeyError:
        pytest.skip("no user nobody or no group nogroup here")


@pytest.fixture
def lib(tmp_path):
    """tmp_path holding proc_lib.py (a resource lister, a broken resource, a log observer)."""
    (tmp_path / "proc_lib.py").write_text(LIB)
    return tmp_path


@contextlib.contextmanager
def openFolder():
    """A folder under /tmp that every user may read (tmp_path's parents are root's only)."""
    folder = tempfile.mkdtemp(prefix="refweb-ids-", dir="/tmp")
    try:
        os.chmod(folder, 0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def plainForeground(args, cwd, **popen):
    """``python -m refweb -n ARGS`` without coverage: a server that gave up root
    could not write coverage data into the checkout."""
    return subprocess.Popen([sys.executable, "-m", "refweb", "-n", *args], cwd=str(cwd),
                            env=childEnv(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, **popen)


def stop(popen):
    """SIGTERM, then the output; SIGKILL if it does not stop in time."""
    popen.send_signal(signal.SIGTERM)
    try:
        out, _ = popen.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(popen.pid, signal.SIGKILL)
        out, _ = popen.communicate()
    return out.decode(errors="replace")


# -- the help and the options refweb cannot act on ------------------------------

def test_help_lists_every_twistd_global_option():
    """`refweb --help` lists every global option of `twistd --help`, spelled alike."""
    text = runner.parseCommandLine(["--help"])
    for spelling in TWISTD_GLOBAL_OPTIONS:
        assert spelling in text, spelling
    assert max(len(line) for line in text.splitlines()) <= 80


def test_help_reactors_names_the_threaded_reactor(tmp_path):
    """`refweb --help-reactors` names the one reactor; `-r threaded` is accepted."""
    rc, out, err = runRefweb("--help-reactors", cwd=tmp_path)
    assert rc == 0 and out.split()[0] == "threaded" and "threadedreactor" in out
    assert runner.parseCommandLine(["-r", "threaded", "web"]).command == "web"


@pytest.mark.parametrize("args, words", [
    (["-r", "epoll", "web"], "refweb has one reactor, threaded"),
    (["-f", "twistd.tap"], "-f/--file: refweb reads no .tap files"),
    (["--source", "app.tas"], "-s/--source: refweb reads no .tas files"),
    (["--profiler", "hotshot", "web"], "--profiler is one of cprofile, profile"),
    (["-u", "no-such-user-here", "web"], "no user named 'no-such-user-here'"),
    (["-g", "no-such-group-here", "web"], "no group named 'no-such-group-here'"),
])
def test_what_refweb_has_not_is_one_line(tmp_path, args, words):
    """An option naming what refweb has not (another reactor, a .tap, an unknown
    user) is one line saying so, exit 1 -- never "not recognized"."""
    rc, out, err = runRefweb(*args, cwd=tmp_path)
    assert rc == 1 and words in err and len(err.strip().splitlines()) == 1, err
    assert "not recognized" not in err


def test_persistence_flags_are_accepted_with_a_note(tmp_path):
    """-o, -e and --originalname start the server and log one line each on why
    they change nothing."""
    (tmp_path / "a.txt").write_text("alpha\n")
    port = freePort()
    with foreground("-o", "-e", "--originalname", "--pidfile", "", "web", "--path",
                    str(tmp_path), "--listen", "tcp:%d" % port, cwd=tmp_path,
                    port=port) as server:
        assert fetch(port, "/a.txt")[2] == b"alpha\n"
        output = server.output()
    assert "refweb: -o/--no_save: refweb saves no state on shutdown" in output
    assert "refweb: -e/--encrypted: refweb reads no .tap/.tas files" in output
    assert "refweb: --originalname: refweb never changes its process name" in output


def test_debug_implies_nodaemon():
    """-b needs the terminal for pdb, so it stays in the foreground, as twistd's does."""
    config = runner.parseCommandLine(["-b", "web"])
    assert config.debug and config.nodaemon and config.logfile == "-"


# -- users, groups and the root folder ------------------------------------------

@needsRoot
def test_uid_and_gid_serve_as_nobody(tmp_path):
    """`refweb -n -u nobody -g nogroup web --path DIR` binds as root, then serves
    as nobody: a resource script sees nobody's real and effective ids."""
    uid, gid = nobodyIds()
    port = freePort()
    with openFolder() as folder:
        with open(os.path.join(folder, "who.rpy"), "w") as f:
            f.write(WHO_RPY)
        server = plainForeground(["--pidfile", "", "-u", "nobody", "-g", "nogroup", "web",
                                  "--path", folder, "--listen", "tcp:%d" % port], tmp_path)
        try:
            waitFor(lambda: server.poll() is not None or portOpen(port), what="port")
            assert fetch(port, "/who.rpy")[2] == b"%d %d %d %d" % (uid, uid, gid, gid)
        finally:
            output = stop(server)
    assert "now running as uid %d, gid %d" % (uid, gid) in output


@needsRoot
def test_euid_keeps_the_real_ids(tmp_path):
    """With --euid only the effective ids change; the real ones stay root's."""
    uid, gid = nobodyIds()
    port = freePort()
    with openFolder() as folder:
        with open(os.path.join(folder, "who.rpy"), "w") as f:
            f.write(WHO_RPY)
        server = plainForeground(["--pidfile", "", "-u", str(uid), "--euid", "web",
                                  "--path", folder, "--listen", "tcp:%d" % port], tmp_path)
        try:
            waitFor(lambda: server.poll() is not None or portOpen(port), what="port")
            assert fetch(port, "/who.rpy")[2] == b"0 %d 0 %d" % (uid, gid)
        finally:
            stop(server)


def test_uid_without_root_changes_nothing():
    """dropPrivileges is a no-op for a process that is not root, as in twistd."""
    if os.getuid() == 0:
        pytest.skip("run as root: the no-op case is for other users")
    assert process.dropPrivileges(uid=os.getuid() + 1, gid=None) is False


@needsRoot
def test_chroot_serves_from_inside_the_folder(lib):
    """--chroot DIR: once started, '/' is DIR (the application was built before)."""
    jail = lib / "jail"
    jail.mkdir()
    (jail / "inside-the-jail").write_text("")
    port = freePort()
    server = plainForeground(["--pidfile", "", "--chroot", str(jail), "web", "--class",
                              "proc_lib.ListRoot", "--listen", "tcp:%d" % port], lib)
    try:
        waitFor(lambda: server.poll() is not None or portOpen(port), what="port")
        assert fetch(port, "/")[2] == b"inside-the-jail"
    finally:
        output = stop(server)
    assert "chroot to %s" % jail in output


@needsRoot
def test_chroot_with_path_serves_and_stops_cleanly(lib):
    """--chroot DIR with --path DIR/site: the folder is named as written and
    served from inside DIR; SIGTERM then exits 0, every time (threads that end
    after the chroot need libgcc_s, which is loaded before it)."""
    jail = lib / "jail"
    (jail / "site").mkdir(parents=True)
    (jail / "site" / "a.txt").write_text("from the jail\n")
    for attempt in range(3):  # the abort came in 5 runs of 8
        port = freePort()
        server = plainForeground(["--pidfile", "", "--chroot", "jail", "web", "--path",
                                  "jail/site", "--listen", "tcp:%d" % port], lib)
        try:
            waitFor(lambda: server.poll() is not None or portOpen(port), what="port")
            assert fetch(port, "/a.txt")[2] == b"from the jail\n"
        finally:
            output = stop(server)
        assert server.returncode == 0, output
        assert "libgcc_s" not in output and "Traceback" not in output


def test_chroot_refuses_a_path_outside_it(tmp_path):
    """--path outside --chroot DIR could not be reached once chrooted: a usage error."""
    (tmp_path / "jail").mkdir()
    (tmp_path / "site").mkdir()
    rc, out, err = runRefweb("-n", "--chroot", "jail", "web", "--path", "site", cwd=tmp_path)
    assert rc == 1 and "--path site is outside --chroot" in err and len(err.splitlines()) == 1


# -- logging: --logger, --syslog, --prefix --------------------------------------

def test_logger_names_the_observer_factory(lib):
    """--logger NAME: NAME() gets every log line, instead of stdout."""
    port = freePort()
    logfile = lib / "custom.log"
    with foreground("--pidfile", "", "--logger", "proc_lib.FileObserver", "web", "--class",
                    "proc_lib.ListRoot", "--listen", "tcp:%d" % port, cwd=lib, port=port,
                    env={"LOGGER_FILE": str(logfile), "PYTHONPATH": ROOT + os.pathsep + str(lib)}
                    ) as server:
        fetch(port, "/")
        waitFor(lambda: '"GET / HTTP/1.1" 200' in logfile.read_text(), what="access line")
        assert "refweb: listening on" not in server.output()
    assert "custom| refweb: listening on tcp:0.0.0.0:%d" % port in logfile.read_text()


def test_logger_that_cannot_be_loaded_is_one_line(tmp_path):
    """A --logger that names nothing callable: exit 1, one line."""
    rc, out, err = runRefweb("-n", "--pidfile", "", "--logger", "json.decoder.NaN", "web",
                             "--listen", "tcp:%d" % freePort(), cwd=tmp_path)
    assert rc == 1 and "--logger json.decoder.NaN" in err
    assert len(err.strip().splitlines()) == 1


def test_syslog_observer_sends_lines_with_the_prefix(monkeypatch):
    """--syslog --prefix P: openlog(P, LOG_PID, LOG_DAEMON), one syslog() call per
    line, a traceback's lines as LOG_ERR."""
    import syslog
    calls = []
    monkeypatch.setattr(syslog, "openlog", lambda *args: calls.append(("openlog",) + args))
    monkeypatch.setattr(syslog, "syslog", lambda *args: calls.append(("syslog",) + args))
    observer = process.SyslogObserver("myweb")
    observer("one line")
    observer("failed:\nTraceback (most recent call last):\n  boom")
    assert calls == [
        ("openlog", "myweb", syslog.LOG_PID, syslog.LOG_DAEMON),
        ("syslog", syslog.LOG_INFO, "one line"),
        ("syslog", syslog.LOG_INFO, "failed:"),
        ("syslog", syslog.LOG_ERR, "Traceback (most recent call last):"),
        ("syslog", syslog.LOG_ERR, "  boom"),
    ]


def test_syslog_option_chooses_the_observer(monkeypatch, logged):
    """`refweb --syslog --prefix P` logs through a SyslogObserver tagged P, not a file."""
    from refweb.python import log
    made = []
    monkeypatch.setattr(process, "SyslogObserver", lambda prefix: made.append(prefix) or made.append)
    config = runner.parseCommandLine(["--syslog", "--prefix", "myweb", "web"])
    runner._startLogging(config)
    try:
        log.msg("to syslog")
        assert made == ["myweb", "to syslog"]
    finally:
        log.removeObserver(made.append)


# -- profiling, --spew and -b ----------------------------------------------------

@pytest.mark.parametrize("profiler", ["cprofile", "profile"])
def test_profile_writes_a_report_covering_the_connection_threads(tmp_path, profiler):
    """-p FILE: when the server stops FILE holds the report, which includes the
    calls made in the threads that served connections."""
    (tmp_path / "a.txt").write_text("alpha\n")
    report = tmp_path / "profile.txt"
    port = freePort()
    with foreground("--pidfile", "", "-p", str(report), "--profiler", profiler, "web",
                    "--path", str(tmp_path), "--listen", "tcp:%d" % port, cwd=tmp_path,
                    port=port) as server:
        assert fetch(port, "/a.txt")[2] == b"alpha\n"
        assert server.terminate() == 0
    text = report.read_text()
    assert "function calls" in text and "serveInWorker" in text


def test_savestats_saves_what_pstats_reads(tmp_path):
    """-p FILE --savestats: FILE is statistics data that pstats.Stats loads."""
    (tmp_path / "a.txt").write_text("alpha\n")
    report = tmp_path / "profile.stats"
    port = freePort()
    with foreground("--pidfile", "", "-p", str(report), "--savestats", "web", "--path",
                    str(tmp_path), "--listen", "tcp:%d" % port, cwd=tmp_path,
                    port=port) as server:
        fetch(port, "/a.txt")
        assert server.terminate() == 0
    functions = {name for (_, _, name) in pstats.Stats(str(report)).stats}
    assert "serveInWorker" in functions


def test_spew_logs_every_call(tmp_path):
    """--spew logs a line per Python call, in the connection threads too."""
    (tmp_path / "a.txt").write_text("alpha\n")
    port = freePort()
    with foreground("--pidfile", "", "--spew", "web", "--path", str(tmp_path), "--listen",
                    "tcp:%d" % port, cwd=tmp_path, port=port) as server:
        assert fetch(port, "/a.txt")[2] == b"alpha\n"
        server.waitOutput(r"spew: \S+http\.py:\d+ serveInWorker\(\) \[")


def test_debug_opens_pdb_on_a_logged_error(lib):
    """-b: a render error opens pdb post mortem at the failing frame; 'c' lets
    the request go on to its 500."""
    port = freePort()
    server = plainForeground(["-b", "--pidfile", "", "web", "--class", "proc_lib.Broken",
                              "--listen", "tcp:%d" % port], lib, stdin=subprocess.PIPE)
    try:
        waitFor(lambda: server.poll() is not None or portOpen(port), what="port")
        server.stdin.write(b"p 6 * 7\nc\n")
        server.stdin.flush()
        assert fetch(port, "/")[0] == 500
    finally:
        output = stop(server)
    assert "refweb -b: RuntimeError: kaboom-for-pdb (post mortem" in output
    assert "(Pdb) 42" in output


def portOpen(port):
    from test_runner import portOpen as isOpen
    return isOpen(port)


@pytest.mark.parametrize("text", ["³", "٣", "+0", " 0", "0_0"])
def test_user_and_group_ids_are_ascii_digits_only(text):
    """``-u ³`` is a name to look up (and not found), never the number 3."""
    with pytest.raises(process.IdentityError):
        process.userId(text)
    with pytest.raises(process.IdentityError):
        process.groupId(text)


def test_numeric_user_and_group_ids():
    """``-u 0 -g 0`` are the numbers 0, whatever the names."""
    assert process.userId("0")[0] == 0 and process.groupId("0") == 0
