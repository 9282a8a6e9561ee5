# -*- test-case-name: tests.test_runner -*-
"""The ``refweb`` command: twistd's job, for refweb.

Guide: "Running a Twisted Web Server" (``twistd web --path ...``, ``kill
`cat twistd.pid```, ``twistd -n``) and "Advanced Configuration"
(``twistd -y``).  Here: ``refweb web ...``, ``refweb.pid``, ``refweb -ny app.tac``.

Journey of ``refweb [options] web [web options]``::

    parseCommandLine   global options (this file; the parser is
                       refweb/options.py), then the sub-command's
                       (refweb/tap.py) -- every usage error is found here,
                       before anything forks, and is one line on stderr
    checkPidFile       a live refweb.pid means another server: refuse
    runForeground (-n) or runDaemon (default): log, write refweb.pid,
    build the application (a .tac, or tap.makeService), bind its ports,
    then reactor.run() until SIGTERM/SIGINT; the services stop, the ports
    close, refweb.pid is removed.

Daemon mode forks *before* building the application: refweb's reactor is
made of threads, and threads do not survive fork().  So the daemon reports
back through a pipe -- "ready" once its ports are bound, or the startup
error -- and the foreground process prints that and exits 0 or 1.

The option tables (``Option``) serve three jobs: getopt parsing (so
``-ny app.tac`` bundles as in twistd), ``--help`` text, and defaults.

``refweb tree FILE.tac`` is for learners: it loads the .tac, starts nothing,
and prints ``resource.describe()`` of each site its services would serve
(refweb/tree.py).

Start reading at ``parseCommandLine``, then ``runForeground``.
"""

import os
import select
import shlex
import sys
import textwrap
from dataclasses import dataclass

# The option parser and the errors live in refweb/options.py (a leaf module);
# they are named here too, where a reader of the command looks for them.
from refweb.options import (EXAMPLES, Option, StartupError, UsageError, failureText,
                            formatHelp, parseOptions, shortPath, versionText, webOptionHint)
from refweb.process import checkPidFile, removePidFile, writePidFile

STARTUP_TIMEOUT = 60.0  # seconds the foreground waits for the daemon's report


GLOBAL_OPTIONS = [
    Option("nodaemon", "n", help="Stay in the foreground and log to stdout "
           "(without it refweb becomes a daemon and uses the default umask of 0077)."),
    Option("python", "y", "FILE", "Read the application from a Python file "
           "(a .tac that sets application = service.Application(...))."),
    Option("pidfile", None, "FILE", "Where to write the process id; '' for "
           "no pid file.", default="refweb.pid"),
    Option("logfile", "l", "FILE", "Where to log: a file name, or - for "
           "stdout. [default: refweb.log, or stdout with --nodaemon]"),
    Option("umask", None, "MASK", "The file creation mask (octal) to apply."),
    Option("rundir", "d", "DIR", "Change to this folder before running.",
           default="."),
    Option("help", None, help="Display this help and exit."),
    Option("version", None, help="Print the version and exit."),
    # twistd's other global options (refweb/process.py does what they ask)
    Option("uid", "u", "UID", "The user (a name or a number) to run as once the "
           "ports are bound; only when started as root."),
    Option("gid", "g", "GID", "The group (a name or a number) to run as; "
           "default: the group of the --uid user."),
    Option("euid", None, help="Set only the effective user and group ids, not the "
           "real ones, so privileges can be regained (no effect unless run as root "
           "with --uid or --gid). Use with caution."),
    Option("chroot", None, "DIR", "Change the root folder to DIR once the "
           "application is built, before the ports are bound: files the server "
           "opens later are looked up inside DIR. web's --path, --resource-script "
           "and --logfile are named as usual (as seen before the chroot) and must "
           "lie inside DIR."),
    Option("syslog", None, help="Log to syslog (facility daemon), not to a file."),
    Option("prefix", None, "PREFIX", "The name syslog lines are tagged with "
           "(with --syslog).", default="refweb"),
    Option("logger", None, "NAME", "A dotted name of a log observer factory: "
           "called with no arguments, it returns a callable that gets each log "
           "line. Takes precedence over --logfile and --syslog."),
    Option("reactor", "r", "NAME", "Which reactor to use: refweb has one "
           "(see --help-reactors).", default="threaded"),
    Option("help-reactors", None, help="Display the reactors refweb has and exit."),
    Option("debug", "b", help="Run under the Python debugger: each error logged "
           "with a traceback opens pdb on it (post mortem), and SIGUSR2 breaks "
           "into pdb; implies --nodaemon."),
    Option("spew", None, help="Log every Python function call, in every thread: "
           "very verbose; useful for finding where a server hangs."),
    Option("traceback", None, help="When your own code (a .tac, --wsgi, --class, "
           "--resource-script, --logger) fails at start, print its whole "
           "traceback, not only the file, line and error."),
    Option("profile", "p", "FILE", "Profile the server (every thread) and write "
           "the results to FILE when it stops."),
    Option("profiler", None, "NAME", "The profiler for --profile: cprofile or "
           "profile.", default="cprofile"),
    Option("savestats", None, help="With --profile, save the statistics "
           "(pstats.Stats(FILE) reads them) rather than the text report."),
    Option("no_save", "o", help="Accepted as twistd's: refweb saves no state on "
           "shutdown, so there is nothing to skip."),
    Option("originalname", None, help="Accepted as twistd's: refweb never changes "
           "its process name."),
    Option("file", "f", "FILE", "twistd's pickled .tap application: refweb has "
           "none, and says so (use -y FILE.tac)."),
    Option("source", "s", "FILE", "twistd's .tas (AOT) application: refweb has "
           "none, and says so (use -y FILE.tac)."),
    Option("encrypted", "e", help="Accepted as twistd's (an encrypted .tap/.tas): "
           "refweb has no such files, so it is ignored."),
]

COMMANDS = {"web": "A general-purpose web server which serves a folder, a "
                   "resource, a resource script or a WSGI application.",
            "tree": "Print the resource tree of each site a .tac file would "
                    "serve (refweb tree FILE.tac), without serving it."}

def _commandTable():
    lines = ["Commands:"]
    for name, text in COMMANDS.items():
        wrapped = textwrap.wrap(text, 79 - 13)
        lines.append("    %-8s %s" % (name, wrapped[0]))
        lines.extend(" " * 13 + more for more in wrapped[1:])
    return "\n".join(lines)


GLOBAL_EPILOG = ("refweb runs an application read from a .tac file (-y), or one "
                 "made by a command.\n" + _commandTable() + "\n\n" + EXAMPLES)


@dataclass
class Config:
    """Everything the command line asked for, checked and made absolute."""
    nodaemon: bool
    tacFile: str            # -y FILE, or None
    command: str            # 'web', or None
    commandOptions: dict    # what tap.Options parsed
    pidfile: str            # absolute, or '' for none
    logfile: str            # absolute path, or '-' for stdout
    umask: int              # or None
    rundir: str
    uid: int = None         # -u (a number, names resolved)
    gid: int = None         # -g, or the -u user's own group
    euid: bool = False
    chroot: str = None      # absolute
    syslog: bool = False
    prefix: str = "refweb"
    logger: str = None      # a dotted name
    debug: bool = False
    spew: bool = False
    traceback: bool = False # --traceback: the user's errors at start in full
    profile: str = None     # absolute path of the report
    profiler: str = "cprofile"
    savestats: bool = False
    notes: tuple = ()       # one line each, logged at start (the persistence options)


def _octalUmask(text):
    try:
        return int(text, 8)
    except (TypeError, ValueError):
        raise UsageError("refweb", "--umask wants an octal number like 022, not %r"
                         % (text,)) from None


def parseCommandLine(argv):
    """argv -> Config, or a help/version text to print (a str); UsageError."""
    try:
        values, rest = parseOptions(argv, GLOBAL_OPTIONS, "refweb")
    except UsageError as exc:
        raise _hintWebOption(exc, argv) from None
    if values["help"]:
        return formatHelp("refweb [options] [web [web options]]",
                          GLOBAL_OPTIONS, GLOBAL_EPILOG)
    if values["version"]:
        return versionText()
    if values["help_reactors"]:
        from refweb.process import reactorsText
        return reactorsText()
    _refuseWhatRefwebHasNot(values)
    command, commandOptions = None, {}
    if rest:
        command = rest[0]
        if command not in COMMANDS:
            raise UsageError("refweb", "unknown command %r (known: %s)"
                             % (command, ", ".join(COMMANDS)))
        if command == "tree":
            from refweb.tree import treeText
            return treeText(rest[1:])  # prints and exits; nothing is served
        from refweb import tap
        commandOptions = tap.parseArgs(rest[1:])
        if isinstance(commandOptions, str):
            return commandOptions  # `web --help` / `web --version`
    if command and values["python"]:
        raise UsageError("refweb", "give either -y FILE or a command, not both")
    if not command and not values["python"]:
        raise UsageError("refweb", "nothing to run: give a command (web) or -y FILE.tac")
    return _makeConfig(values, command, commandOptions)


def _hintWebOption(exc, argv):
    """An option of ``web`` given before ``web``: a hint in the error."""
    from refweb import tap
    return webOptionHint(exc, argv, GLOBAL_OPTIONS, tap.WEB_OPTIONS)


def _refuseWhatRefwebHasNot(values):
    """-r other than 'threaded', -f, -s: one line saying why, as a usage error."""
    from refweb import process
    if values["reactor"] not in process.REACTORS:
        raise UsageError("refweb", "refweb has one reactor, %s (threads, not an event "
                         "loop; see --help-reactors), not %r"
                         % (", ".join(process.REACTORS), values["reactor"]))
    for name in ("file", "source"):
        if values[name] is not None:
            raise UsageError("refweb", process.PERSISTENCE_NOTES[name])
    if values["profiler"] not in process.PROFILERS:
        raise UsageError("refweb", "--profiler is one of %s, not %r"
                         % (", ".join(process.PROFILERS), values["profiler"]))


def _identity(values):
    """-u/-g as numbers: (uid, gid); the -u user's group when -g is not given."""
    from refweb import process
    uid = gid = None
    try:
        if values["uid"] is not None:
            uid, gid, _ = process.userId(values["uid"])
        if values["gid"] is not None:
            gid = process.groupId(values["gid"])
    except process.IdentityError as exc:
        raise UsageError("refweb", "-u/-g: %s" % (exc,)) from None
    return uid, gid


def _checkInsideChroot(chroot, commandOptions):
    """With --chroot DIR, the files ``web`` serves and writes must lie inside
    DIR: they are named as the user wrote them, and found after the chroot
    at their place inside DIR (refweb.tap._afterChroot)."""
    from refweb import process
    for name in ("path", "resource_script", "logfile"):
        path = commandOptions.get(name)
        if path and process.pathInRoot(os.path.realpath(path), os.path.realpath(chroot)) is None:
            raise UsageError("refweb", "--%s %s is outside --chroot %s, so the server "
                             "could not reach it once chrooted; put it inside"
                             % (name.replace("_", "-"), shortPath(path), shortPath(chroot)))


def _makeConfig(values, command, commandOptions):
    from refweb import process
    if values["chroot"] and commandOptions:
        _checkInsideChroot(os.path.abspath(values["chroot"]), commandOptions)
    debug = bool(values["debug"])
    nodaemon = bool(values["nodaemon"]) or debug  # pdb needs the terminal
    logfile = values["logfile"] or ("-" if nodaemon else "refweb.log")
    uid, gid = _identity(values)
    return Config(
        nodaemon=nodaemon,
        tacFile=os.path.abspath(values["python"]) if values["python"] else None,
        command=command, commandOptions=commandOptions,
        pidfile=os.path.abspath(values["pidfile"]) if values["pidfile"] else "",
        logfile=logfile if logfile == "-" else os.path.abspath(logfile),
        umask=_octalUmask(values["umask"]) if values["umask"] is not None else None,
        rundir=values["rundir"],
        uid=uid, gid=gid, euid=bool(values["euid"]),
        chroot=os.path.abspath(values["chroot"]) if values["chroot"] else None,
        syslog=bool(values["syslog"]), prefix=values["prefix"], logger=values["logger"],
        debug=debug, spew=bool(values["spew"]), traceback=bool(values["traceback"]),
        profile=os.path.abspath(values["profile"]) if values["profile"] else None,
        profiler=values["profiler"], savestats=bool(values["savestats"]),
        notes=tuple(process.PERSISTENCE_NOTES[name]
                    for name in ("no_save", "encrypted", "originalname") if values[name]))


# --------------------------------------------------------------------------
# building, starting and running the application
# --------------------------------------------------------------------------

def makeApplication(config):
    """The application to run: from the .tac file, or made by the command."""
    from refweb.application import app, service
    if config.tacFile:
        try:
            return app.loadApplication(config.tacFile)
        except app.ApplicationError as exc:
            raise StartupError("cannot load application: %s" % (exc,), exc.original) from None
    from refweb import tap
    application = service.Application("refweb " + config.command)
    options = dict(config.commandOptions, hide=[config.pidfile, config.logfile],
                   chroot=config.chroot)
    tap.makeService(options).setServiceParent(application)
    return application


def startServer(config, note=None, daemon=False):
    """Log, write the pid file, build and start the application (ports bound).

    The steps twistd's global options add, in order: the profiler, --spew
    and -b start first, so they see everything; --chroot once the
    application is built (its modules imported); -u/-g once its ports are
    bound (refweb.application.app.startApplication).
    """
    from refweb import process
    from refweb.application import app
    from refweb.python import log
    _startLogging(config, redirectStdio=daemon)
    for line in (note,) + tuple(config.notes):
        if line:
            log.msg(line if line.startswith("Removed") else "refweb: " + line)
    _startDebugAids(config)
    writePidFile(config.pidfile)
    application = makeApplication(config)
    if config.chroot:
        process.chroot(config.chroot)
    if config.uid is not None:
        application.uid = config.uid
    if config.gid is not None:
        application.gid = config.gid
    from refweb.internet import reactor
    # SIGTERM must find its handler from the moment a client (or a test)
    # can see the port open, not only once reactor.run() has begun.
    reactor.installSignalHandlers()
    try:
        app.startApplication(application, euid=config.euid)
    except Exception as exc:
        raise StartupError("cannot start: %s" % (exc,)) from None
    for port in _boundPorts(application):
        log.msg("refweb: listening on %s" % (_describe(port.getHost()),))
    return application


def _boundPorts(service):
    port = getattr(service, "_port", None)
    if port is not None:
        yield port
    for child in getattr(service, "services", ()):
        yield from _boundPorts(child)


def _describe(address):
    """'tcp:0.0.0.0:8080' or 'unix:/path': an address as a user writes it."""
    if getattr(address, "type", "") == "UNIX":
        return "unix:%s" % (address.name,)
    return "%s:%s:%s" % (getattr(address, "type", "tcp").lower(), address.host, address.port)


_profiler = []  # the running process.Profiler, stopped in serveUntilStopped


def _startDebugAids(config):
    from refweb import process
    if config.profile:
        profiler = process.Profiler(config.profile, config.profiler, config.savestats)
        profiler.start()
        _profiler.append(profiler)
    if config.spew:
        process.startSpewing()
    if config.debug:
        process.startDebugging()


def _startLogging(config, redirectStdio=False):
    """--logger, else --syslog, else stdout ('-') or a file; a daemon's print()
    goes to the log file too."""
    from refweb import process
    from refweb.python import log
    if config.logger:
        log.addObserver(process.loadObserver(config.logger))
        return
    if config.syslog:
        log.addObserver(process.SyslogObserver(config.prefix))
        return
    _startFileLogging(config.logfile, redirectStdio)


def _startFileLogging(logfile, redirectStdio=False):
    from refweb.python import log
    if logfile == "-":
        sys.stdout.reconfigure(line_buffering=True)
        log.startLogging(sys.stdout)
        return
    stream = open(logfile, "a", buffering=1, encoding="utf-8", errors="replace")
    log.startLogging(stream)
    if redirectStdio:  # instead of /dev/null: stray prints and tracebacks stay readable
        sys.stdout = sys.stderr = stream


def serveUntilStopped(config):
    """reactor.run() until SIGTERM/SIGINT; then clean up the pid file.

    The exit status: 0 if every request in flight was answered, 1 if the
    shutdown cut some short (a second Ctrl-C, or shutdownGrace ran out)."""
    from refweb.internet import reactor
    from refweb.python import log
    try:
        reactor.run()
    finally:
        while _profiler:
            _profiler.pop().stop()
        removePidFile(config.pidfile)
        log.msg("refweb: stopped%s." % (" (requests were cut short)" if reactor.cutShort
                                        else ""))
    return 1 if reactor.cutShort else 0


def _prepareProcess(config):
    if config.umask is not None:
        os.umask(config.umask)
    os.chdir(config.rundir)


def runForeground(config, note=None):
    """``refweb -n ...``: serve in this process, logging to stdout."""
    try:
        _prepareProcess(config)
        startServer(config, note)
    except Exception as exc:
        _reportFailure(config, exc)
        return 1
    return serveUntilStopped(config)


def _reportFailure(config, exc):
    """A line or two for the user (the whole traceback of their own code only
    with --traceback; of refweb's, always): on stderr and in the log.
    Returns the text, which a daemon sends to the waiting foreground."""
    from refweb.python import log
    from refweb.internet.endpoints import EndpointError
    from refweb.internet.error import CannotListenError
    text = failureText(exc, wholeTraceback=config.traceback)
    if not isinstance(exc, (StartupError, EndpointError, CannotListenError, OSError)):
        text = "refweb: cannot start: %s: %s" % (type(exc).__name__, exc)
        log.err(exc, "Unexpected error while starting (a bug in refweb?):")
    if config.logfile != "-":
        log.msg(text)
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
    removePidFile(config.pidfile)
    return text


def runDaemon(config, note=None):
    """Fork a daemon; return 0 once it reports its ports bound, else 1."""
    readEnd, writeEnd = os.pipe()
    sys.stdout.flush()  # or the child would print our buffered output again
    sys.stderr.flush()
    child = os.fork()
    if child:
        os.close(writeEnd)
        outcome = _awaitReport(readEnd)
        os.waitpid(child, 0)
        if not outcome.startswith("ready "):
            sys.stderr.write(outcome + "\n")  # _reportFailure's text, or _awaitReport's
            return 1
        sys.stdout.write(backgroundLine(config, int(outcome.split()[1])) + "\n")
        return 0
    os.close(readEnd)
    os.setsid()  # a new session: no controlling terminal, own process group
    if os.fork():
        os._exit(0)  # the middle process; the grandchild can never regain a terminal
    return _daemonMain(config, writeEnd, note)


def backgroundLine(config, pid):
    """What the command prints as the daemon takes over, so that nobody
    wonders where the server went: its pid, its log, how to stop it."""
    if config.logger or config.syslog:
        where = "--logger %s" % (config.logger,) if config.logger else "syslog"
    else:
        where = shortPath(config.logfile)
    if config.pidfile:
        stop = "kill $(cat %s)" % (shlex.quote(shortPath(config.pidfile)),)
        pidfile = ", pid file %s" % (shortPath(config.pidfile),)
    else:
        stop, pidfile = "kill %d" % (pid,), ""
    return ("refweb: serving in the background as process %d (log %s%s); stop it "
            "with: %s  (-n keeps it in the foreground)" % (pid, where, pidfile, stop))


def _daemonMain(config, reportFd, note):
    """In the daemon: detach, start, report through ``reportFd``, serve."""
    try:
        os.umask(0o077 if config.umask is None else config.umask)
        os.chdir(config.rundir)
        _detachStdio()
        startServer(config, note, daemon=True)
    except Exception as exc:
        _send(reportFd, _reportFailure(config, exc))
        return 1
    _send(reportFd, "ready %d" % (os.getpid(),))
    return serveUntilStopped(config)


def _detachStdio():
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _send(fd, text):
    try:
        os.write(fd, text.encode("utf-8", "replace")[-4000:])  # the end says what failed
    finally:
        os.close(fd)


def _awaitReport(fd):
    """Read the daemon's one report; EOF or silence means it failed."""
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], STARTUP_TIMEOUT)
        if not ready:
            return ("refweb: the daemon did not report within %ds; see the log file"
                    % STARTUP_TIMEOUT)
        data = os.read(fd, 4096)
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    text = b"".join(chunks).decode("utf-8", "replace")
    return text or "refweb: the daemon exited while starting; see the log file"


def run(config):
    """Run a parsed command line; the exit status."""
    try:
        note = checkPidFile(config.pidfile)
    except StartupError as exc:
        sys.stderr.write("refweb: %s\n" % (exc,))
        return 1
    from refweb.internet.threadedreactor import ShutdownCutShort
    try:
        if config.nodaemon:
            return runForeground(config, note)
        return runDaemon(config, note)
    except ShutdownCutShort:  # a second Ctrl-C before the reactor ran
        removePidFile(config.pidfile)
        return 1


def main(argv=None):
    """Entry point of ``refweb`` and ``python -m refweb``; exits the process."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        config = parseCommandLine(argv)
    except UsageError as exc:
        sys.stderr.write("%s: error: %s (try: %s --help)\n"
                         % (exc.command, exc, exc.command))
        sys.exit(1)
    if isinstance(config, str):
        sys.stdout.write(config)
        sys.exit(0)
    sys.exit(run(config))
