# -*- test-case-name: tests.test_process -*-
"""The process a server runs in: what twistd's global options do to it.

Guide: "Running a Twisted Web Server" -- ``twistd [options] web ...``; the
options before ``web`` belong to twistd, and refweb's runner takes them all.

Where it sits in the journey of ``refweb [options] web``: refweb.runner
parses the command line, then, in the server process,

    checkPidFile   --pidfile: a live pid file refuses the start (writePidFile,
                   removePidFile: written once logging runs, removed at exit)
    startLogging   -l FILE / --syslog --prefix / --logger NAME
    Profiler       -p FILE (--profiler, --savestats): every thread, from
                   before the ports are bound until the reactor stops
    startSpewing   --spew: one log line per Python function call
    startDebugging -b: pdb post mortem on each logged error, SIGUSR2 -> pdb
    chroot         --chroot DIR, after the application is built, having
                   loaded what threads need later (loadBeforeChroot);
                   pathInRoot maps web's paths into DIR
    dropPrivileges -u/-g/--euid, once the ports are bound (refweb.application.app
                   calls it: the one place that changes a process's ids)

It imports only leaf modules (refweb.options, refweb.python.reflect), so
runner and application/app may both import it without a cycle.

The persistence options (-o, -f, -s, -e) have nothing to act on: Twisted can
pickle an application to a .tap file and read it back; refweb cannot, and
says so in one line (``PERSISTENCE_NOTES``).

Start reading at ``dropPrivileges``.
"""

import grp
import os
import pwd
import signal
import sys
import threading

from refweb import grammar
from refweb.internet.unixlock import processAlive
from refweb.options import StartupError, callUserCode, loadNamed
from refweb.python import log
from refweb.python.reflect import describeKind

REACTORS = {"threaded": "refweb.internet.threadedreactor: a selector thread for "
                        "waiting connections, worker threads for requests; "
                        "refweb's one reactor"}

PERSISTENCE_NOTES = {
    "no_save": "-o/--no_save: refweb saves no state on shutdown (it has no pickled "
               "applications), so there is nothing to skip",
    "encrypted": "-e/--encrypted: refweb reads no .tap/.tas files, encrypted or not; "
                 "the option is ignored",
    "originalname": "--originalname: refweb never changes its process name; the "
                    "option is ignored",
    "file": "-f/--file: refweb reads no .tap files (Twisted's pickled applications); "
            "write the application in a .tac file and run it with -y FILE.tac",
    "source": "-s/--source: refweb reads no .tas files (Twisted's AOT source); "
              "write the application in a .tac file and run it with -y FILE.tac",
}


def reactorsText():
    """What ``refweb --help-reactors`` prints."""
    return "".join("    %-10s %s\n" % item for item in REACTORS.items())


# --------------------------------------------------------------------------
# the pid file
# --------------------------------------------------------------------------

def checkPidFile(pidfile):
    """Refuse if ``pidfile`` names a live process; remove it if stale.

    Returns a note to log about a stale file, or None.
    """
    if not pidfile or not os.path.exists(pidfile):
        return None
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        pid = None
    if pid is not None and pid != os.getpid() and processAlive(pid):
        raise StartupError(
            "%s names process %d, which is still running: another refweb is "
            "serving from here. Stop it first (kill `cat %s`), or use --pidfile."
            % (pidfile, pid, os.path.basename(pidfile)))
    os.remove(pidfile)
    return "Removed stale pid file %s (process %s is gone)." % (pidfile, pid)


def writePidFile(pidfile):
    if pidfile:
        with open(pidfile, "w") as f:
            f.write("%d\n" % os.getpid())


def removePidFile(pidfile):
    """Remove ``pidfile`` if it is still ours."""
    try:
        with open(pidfile) as f:
            if int(f.read().strip()) == os.getpid():
                os.remove(pidfile)
    except (OSError, ValueError):
        pass


# --------------------------------------------------------------------------
# users and groups (-u, -g, --euid) and the root folder (--chroot)
# --------------------------------------------------------------------------

class IdentityError(ValueError):
    """A user or group name that this system does not know."""


def userId(text):
    """'nobody' or '65534' -> (uid, the user's own gid, its name or None).

    The text comes from the command line, not a peer, but a number is still
    read by grammar.parseDigits: ASCII digits only, as everywhere in refweb."""
    uid = grammar.parseDigits(text, maxDigits=10)
    if uid is not None:
        try:
            entry = pwd.getpwuid(uid)
        except KeyError:
            return uid, None, None
        return uid, entry.pw_gid, entry.pw_name
    try:
        entry = pwd.getpwnam(text)
    except KeyError:
        raise IdentityError("no user named %r" % (text,)) from None
    return entry.pw_uid, entry.pw_gid, entry.pw_name


def groupId(text):
    """'nogroup' or '65534' -> the gid (digits read as in userId)."""
    gid = grammar.parseDigits(text, maxDigits=10)
    if gid is not None:
        return gid
    try:
        return grp.getgrnam(text).gr_gid
    except KeyError:
        raise IdentityError("no group named %r" % (text,)) from None


def dropPrivileges(uid=None, gid=None, euid=False):
    """As root, become ``uid``/``gid``: for good, or (``euid``) only in effect.

    Called once the ports are bound, so a server may listen on port 80 and
    serve as nobody.  Without root it changes nothing, as twistd does.  The
    groups go first: once the uid is not 0 they can no longer be changed.
    Supplementary groups are reset too, or the server would keep root's.
    """
    if os.getuid() != 0 or (uid is None and gid is None):
        return False
    if gid is not None:
        userName = _userName(uid)
        if userName is not None:
            os.initgroups(userName, gid)  # the user's own supplementary groups
        else:
            os.setgroups([gid])
        (os.setegid if euid else os.setgid)(gid)
    if uid is not None:
        (os.seteuid if euid else os.setuid)(uid)
    log.msg("refweb: now running as uid %d, gid %d%s"
            % (os.geteuid(), os.getegid(), " (effective ids only)" if euid else ""))
    return True


def _userName(uid):
    if uid is None:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def chroot(folder):
    """--chroot DIR: from now on '/' is DIR (only root may do this).

    What the server would otherwise read from the disk later, and no longer
    find inside DIR, is loaded first (``loadBeforeChroot``)."""
    loadBeforeChroot()
    os.chroot(folder)
    os.chdir("/")
    log.msg("refweb: chroot to %s" % (folder,))


def loadBeforeChroot():
    """Load now what threads and requests would load from the disk later.

    libgcc_s: glibc opens it only when a thread first exits by pthread_exit
    (as a daemon thread does when the interpreter ends) -- after the chroot
    it is not found, and the process aborts with "libgcc_s.so.1 must be
    installed for pthread_exit to work".  The codecs, the MIME types table
    (mimetypes reads /etc/mime.types once, on first use) and every refweb
    module (some are imported by a request's first use) likewise.
    """
    import ctypes
    import importlib
    import mimetypes
    import pkgutil
    import refweb
    try:
        ctypes.CDLL("libgcc_s.so.1")
    except OSError:
        pass  # a libc that does not need it (musl), or none to find: nothing to keep
    for codec in ("idna", "latin-1", "utf-8", "ascii", "utf-16"):
        "".encode(codec)
    mimetypes.init()
    for module in pkgutil.walk_packages(refweb.__path__, "refweb."):
        if not module.name.startswith("refweb.reference") and module.name != "refweb.__main__":
            importlib.import_module(module.name)


def pathInRoot(path, root):
    """Where ``path`` (absolute, outside) is once ``root`` is '/': '/srv/jail/site'
    with root '/srv/jail' is '/site'.  None if ``path`` is not inside ``root``."""
    relative = os.path.relpath(path, root)
    if relative == "." or relative.startswith(".." + os.sep) or relative == "..":
        return "/" if relative == "." else None
    return "/" + relative


# --------------------------------------------------------------------------
# where the log goes (--syslog, --prefix, --logger)
# --------------------------------------------------------------------------

class SyslogObserver:
    """Sends each log line to syslog (the stdlib ``syslog`` module).

    A line that starts a traceback, and every line after it in the same
    message, goes with priority LOG_ERR; the rest with LOG_INFO.
    """

    def __init__(self, prefix, facility=None):
        import syslog
        self.syslog = syslog
        syslog.openlog(prefix, syslog.LOG_PID, syslog.LOG_DAEMON if facility is None
                       else facility)

    def __call__(self, text):
        priority = self.syslog.LOG_INFO
        for line in text.splitlines() or [""]:
            if line.startswith("Traceback"):
                priority = self.syslog.LOG_ERR
            self.syslog.syslog(priority, line)


def loadObserver(name):
    """--logger NAME: call the factory NAME names; its result observes the log."""
    factory = loadNamed("--logger", name)
    if not callable(factory):
        raise StartupError("--logger %s is %s, not a log observer factory (a "
                           "callable that returns one)" % (name, describeKind(factory)))
    observer = callUserCode("--logger " + name, factory)
    if not callable(observer):
        raise StartupError("--logger %s() returned %s, which cannot take log lines"
                           % (name, describeKind(observer)))
    return observer


# --------------------------------------------------------------------------
# profiling (--profile, --profiler, --savestats)
# --------------------------------------------------------------------------

PROFILERS = ("cprofile", "profile")


class Profiler:
    """Profiles every thread from ``start()`` on; ``stop()`` writes FILE.

    refweb's work happens in threads (one per connection, the WSGI pool), so
    one profiler per thread is made as each starts, and their figures are
    added up at the end.  FILE gets the text report (cumulative time), or,
    with ``savestats``, the data that ``pstats.Stats(FILE)`` reads.
    """

    def __init__(self, path, kind="cprofile", savestats=False):
        if kind not in PROFILERS:
            raise ValueError("unknown profiler %r (known: %s)" % (kind, ", ".join(PROFILERS)))
        self.path, self.kind, self.savestats = path, kind, savestats
        self._profilers = []
        self._lock = threading.Lock()  # guards _profilers

    def start(self):
        threading.setprofile(self._threadStarted)  # threads started from now on
        self._profileThisThread()

    def _threadStarted(self, frame, event, arg):
        # The first event of a new thread: from here on its own profiler
        # takes the events (it replaces this function).
        self._profileThisThread()

    def _profileThisThread(self):
        if self.kind == "cprofile":
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        else:
            profiler = _midStackProfile()
            sys.setprofile(profiler.dispatcher)
        with self._lock:
            self._profilers.append(profiler)

    def stop(self):
        import pstats
        threading.setprofile(None)
        sys.setprofile(None)
        with self._lock:
            profilers, self._profilers = self._profilers, []
        with open(self.path, "w") as report:
            stats = None
            for profiler in profilers:
                try:
                    if stats is None:
                        stats = pstats.Stats(profiler, stream=report)
                    else:
                        stats.add(profiler)
                except TypeError:
                    continue  # a thread that made no call worth a figure
            if stats is None:
                report.write("refweb: the profiler saw no calls\n")
                return
            if not self.savestats:
                stats.sort_stats("cumulative").print_stats()
        if self.savestats:
            stats.dump_stats(self.path)


def _midStackProfile():
    """A pure-Python ``profile.Profile`` that may start in the middle of a call
    stack: ``profile`` expects to see every frame it returns from, and a thread
    profiled from its first event returns from frames entered before that."""
    import profile

    class MidStackProfile(profile.Profile):
        def trace_dispatch_return(self, frame, t):
            current = self.cur[-2]
            if frame is not current and frame is not current.f_back:
                return 0  # a frame it never saw entered: nothing to account
            return profile.Profile.trace_dispatch_return(self, frame, t)

    # The dispatch table holds the base class's functions: point it at ours.
    MidStackProfile.dispatch = dict(profile.Profile.dispatch, **{
        event: MidStackProfile.trace_dispatch_return
        for event in ("return", "c_exception", "c_return")})
    return MidStackProfile()


# --------------------------------------------------------------------------
# --spew and -b/--debug
# --------------------------------------------------------------------------

def startSpewing(stream=None):
    """--spew: a line for every Python function called, in every thread.

    The lines go straight to the log's stream (stdout, or the daemon's log
    file), not through ``log.msg``: the logger's own calls are traced too,
    and one made while it holds its lock would wait for itself.
    """
    def spew(frame, event, arg):
        if event == "call":
            code = frame.f_code
            (stream or sys.stdout).write("spew: %s:%d %s() [%s]\n" % (
                code.co_filename, frame.f_lineno, code.co_name,
                threading.current_thread().name))
        return None  # no line-by-line tracing inside the call
    threading.settrace(spew)
    sys.settrace(spew)


def startDebugging():
    """-b: every error that is logged with a traceback opens pdb on it (post
    mortem, in the thread that caught it, which waits meanwhile); SIGUSR2
    breaks into pdb in the main thread."""
    import pdb
    from refweb.python import failure
    failure.startDebugMode()

    def breakIn(signum, frame):
        pdb.Pdb().set_trace(frame)
    signal.signal(signal.SIGUSR2, breakIn)
