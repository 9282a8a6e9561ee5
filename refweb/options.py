# -*- test-case-name: tests.test_runner -*-
"""The command line's vocabulary: option tables, their parser, help pages,
and the errors the ``refweb`` command reports in a line or two.

Guide: "Running a Twisted Web Server" (``twistd web --help``; the options
before ``web`` are twistd's, those after it the web server's).

Where it sits: refweb.runner parses the global options with ``parseOptions``
and ``GLOBAL_OPTIONS`` (runner.py), refweb.tap the ``web`` options with the
same function and ``WEB_OPTIONS``; both raise ``UsageError`` before anything
forks, and ``StartupError`` or ``UserCodeError`` once the server process
builds the application.  This module imports nothing else of refweb, so the
command-line modules (runner, tap, process, application/) all point down to
it and never back at each other.

A usage error carries a hint where one helps: the nearest known option for
a misspelt one (``parseOptions``), the command line in the right order for
an option of ``web`` given before ``web`` (``webOptionHint``).

Start reading at ``parseOptions``; then ``UserCodeError``, the one rule for
the user's own code failing at start: what was being loaded, the file and
line, the exception's own line -- and the whole traceback only with
``--traceback``.
"""

import difflib
import getopt
import os
import shlex
import sysconfig
import textwrap
import traceback
from dataclasses import dataclass

from refweb.python.reflect import InvalidName, namedAny


class UsageError(Exception):
    """A command line we cannot run; ``command`` says whose options were wrong.

    ``option`` is the option getopt did not know ('path' for --path, 'x' for
    -x), if that was the trouble, so the caller can add a hint.
    """

    def __init__(self, command, problem, option=None):
        super().__init__(problem)
        self.command = command
        self.option = option


class StartupError(Exception):
    """The server cannot start; the message is one line for the user.

    ``original``: the user's exception behind it, if any, whose traceback
    ``--traceback`` prints (see ``failureText``).
    """

    def __init__(self, message, original=None):
        super().__init__(message)
        self.original = original


@dataclass(frozen=True)
class Option:
    """One command-line option: its spellings, its value and its help line."""
    long: str                  # 'logfile' for --logfile
    short: str = None          # 'l' for -l
    arg: str = None            # a metavar ('FILE') if it takes a value
    help: str = ""
    default: object = None
    repeat: bool = False       # may be given many times; the value is a list
    dest: str = None           # key in the parsed dict; default: long
    const: object = True       # what a flag stores when given

    @property
    def key(self):
        return self.dest or self.long.replace("-", "_")


def parseOptions(argv, table, command):
    """getopt-parse ``argv`` with ``table``: (values dict, remaining args).

    Parsing stops at the first argument that is not an option (a
    sub-command's name), as twistd does.  An unknown long option gets the
    nearest known one as a hint.
    """
    shorts = "".join(o.short + (":" if o.arg else "") for o in table if o.short)
    longs = [o.long + ("=" if o.arg else "") for o in table]
    try:
        pairs, rest = getopt.getopt(argv, shorts, longs)
    except getopt.GetoptError as exc:
        raise UsageError(command, str(exc) + _nearest(exc, table), option=exc.opt) from None
    byName = {"--" + o.long: o for o in table}
    byName.update({"-" + o.short: o for o in table if o.short})
    values = {o.key: ([] if o.repeat else o.default) for o in table}
    for name, value in pairs:
        option = byName[name]
        value = value if option.arg else option.const
        if option.repeat:
            values[option.key].append(value)
        else:
            values[option.key] = value
    return values, rest


def _nearest(exc, table):
    """'; did you mean --path?' for a misspelt long option, else ''."""
    if "not recognized" not in exc.msg or len(exc.opt) < 2:
        return ""
    close = difflib.get_close_matches(exc.opt, [o.long for o in table], n=1, cutoff=0.6)
    return "; did you mean --%s?" % (close[0],) if close else ""


def webOptionHint(exc, argv, globalTable, webTable):
    """The UsageError ``exc`` of the global options, with a hint if the option
    belongs to ``web`` and came before it (``refweb -n --path DIR web``):
    the command line in the right order, or the nearest option of web."""
    spelling = ("--" if len(exc.option or "") > 1 else "-") + (exc.option or "")
    if _takesValue(spelling, webTable) is None:
        return _nearestWebOption(exc, globalTable, webTable)
    fixed = shlex.join(["refweb"] + _webOptionsAfterWeb(argv, globalTable, webTable))
    return UsageError("refweb", "%s is an option of web, so it goes after 'web': "
                      "did you mean `%s`?" % (spelling, fixed))


def _nearestWebOption(exc, globalTable, webTable):
    """A misspelt option nearer to one of web's than to any global one:
    name it, and where it goes."""
    def best(table):
        return max((difflib.SequenceMatcher(None, exc.option, o.long).ratio(), o.long)
                   for o in table)
    if "not recognized" not in str(exc) or len(exc.option or "") < 2:
        return exc
    (webScore, webName), (globalScore, _) = best(webTable), best(globalTable)
    if webScore < 0.6 or webScore <= globalScore:
        return exc
    return UsageError("refweb", "option --%s not recognized; did you mean --%s? (an "
                      "option of web: it goes after 'web')" % (exc.option, webName))


def _takesValue(spelling, table):
    """True/False: whether the option ``spelling`` ('--path', '-i') of
    ``table`` takes a value; None if the table has no such option."""
    for o in table:
        if spelling in ("--" + o.long, "-%s" % (o.short,)):
            return bool(o.arg)
    return None


def _webOptionsAfterWeb(argv, globalTable, webTable):
    """``argv`` with every option that only ``web`` knows moved after 'web'."""
    before, moved, i = [], [], 0
    while i < len(argv) and argv[i] != "web":
        token = argv[i]
        name = token.partition("=")[0] if token.startswith("--") else token[:2]
        table = globalTable if _takesValue(name, globalTable) is not None else webTable
        target = moved if table is webTable else before
        target.append(token)
        if _takesValue(name, table) and "=" not in token and len(token) == len(name) \
                and i + 1 < len(argv):
            target.append(argv[i + 1])  # its value, given as the next argument
            i += 1
        i += 1
    return before + ["web"] + moved + argv[i + 1:]


def formatHelp(usage, table, epilog=""):
    """A twistd-shaped help page: usage line, option table, a closing note."""
    def spelling(o):
        short = "-%s, " % o.short if o.short else "    "
        return "  %s--%s%s" % (short, o.long, "=" + o.arg if o.arg else "")
    width = max(len(spelling(o)) for o in table) + 2
    lines = ["Usage: " + usage, "Options:"]
    for o in sorted(table, key=lambda o: o.long):
        text = o.help
        if o.default not in (None, False, "", []):
            text += " [default: %s]" % (o.default,)
        wrapped = textwrap.wrap(text, 79 - width) or [""]
        lines.append(spelling(o).ljust(width) + wrapped[0])
        lines.extend(" " * width + more for more in wrapped[1:])
    return "\n".join(lines) + ("\n\n" + epilog.strip() if epilog else "") + "\n"


# What both help pages end with: one command line for each way to start.
EXAMPLES = """\
Examples:
  refweb -n web --path .
      serve the current folder on port 8080; Ctrl-C stops it
  refweb -n web --wsgi helloworld.application
      serve the WSGI application 'application' of ./helloworld.py
  refweb -ny app.tac
      run the application that app.tac builds"""


def versionText():
    """What ``--version`` prints."""
    import refweb
    return "refweb %s (a teaching re-implementation of twistd web)\n" % (refweb.__version__,)


# --------------------------------------------------------------------------
# the user's own code failing at start
# --------------------------------------------------------------------------

class UserCodeError(StartupError):
    """The user's code (a .tac, a --wsgi module, a --class...) failed while
    refweb loaded it.  The message: what was being loaded, where it failed
    in the user's file, and the exception's first line; ``original`` keeps
    the exception (and its traceback) for ``--traceback``."""

    def __init__(self, what, original):
        self.what = what
        StartupError.__init__(self, "cannot load %s: %s" % (what, whereItFailed(original)),
                              original)


_REFWEB = os.path.dirname(os.path.abspath(__file__)) + os.sep
_STDLIB = tuple({os.path.join(sysconfig.get_paths()[key], "")
                 for key in ("stdlib", "platstdlib")})


def _isUsers(filename):
    """True for a frame of the user's code: not refweb's, not the standard
    library's (third-party packages count as the user's), not importlib's."""
    if filename.startswith("<") or filename.startswith(_REFWEB):
        return False
    inPackages = "site-packages" in filename or "dist-packages" in filename
    return inPackages or not filename.startswith(_STDLIB)


def shortPath(path):
    """A path under the current folder as a relative one (shorter to read)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def whereItFailed(exc):
    """'broken.py, line 3: SyntaxError: invalid syntax' -- the user's file and
    line, the exception's type and first line, and where it was raised if
    that is another file (a library the user's code called)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, SyntaxError):
        # The line is the file's, not a frame's: the file never ran.
        text = exc.msg
        where = "%s, line %s" % (shortPath(exc.filename or "?"), exc.lineno)
        return "%s: %s: %s" % (where, type(exc).__name__, text)
    frames = traceback.extract_tb(exc.__traceback__)
    users = [f for f in frames if _isUsers(f.filename)]
    head = "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__
    if not users:
        return head
    outer, inner = users[0], users[-1]
    where = "%s, line %s: %s" % (shortPath(outer.filename), outer.lineno, head)
    if inner is not outer:
        where += " (raised in %s, line %s)" % (shortPath(inner.filename), inner.lineno)
    return where


def callUserCode(what, function, *args):
    """``function(*args)``, where any exception is the user's code failing
    while ``what`` ('--class mod.Page') was loaded: a UserCodeError."""
    try:
        return function(*args)
    except StartupError:
        raise
    except Exception as exc:
        raise UserCodeError(what, exc) from None


def loadNamed(what, name):
    """The object the dotted ``name`` names, for the option ``what``
    ('--wsgi'): a StartupError if it names nothing ('cannot find --wsgi
    json.nosuchattr: json has no attribute nosuchattr'), a UserCodeError if
    importing its module failed."""
    try:
        return namedAny(name)
    except InvalidName as exc:
        raise StartupError("cannot find %s %s: %s" % (what, name, exc)) from None
    except Exception as exc:
        raise UserCodeError("%s %s" % (what, name), exc) from None


def _fromUsers(exc):
    """The traceback of ``exc`` from the first frame of the user's code on
    (refweb's and importlib's frames above it tell the user nothing)."""
    tb = exc.__traceback__
    while tb is not None and not _isUsers(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb or exc.__traceback__


def failureText(exc, wholeTraceback=False):
    """The lines the command prints for an error at start (no trailing newline):
    'refweb: ' and the message; for the user's own code the whole traceback
    with ``wholeTraceback``, else a hint that --traceback shows it."""
    text = "refweb: %s" % (exc,)
    original = getattr(exc, "original", None)
    if original is None:
        return text
    if wholeTraceback:
        whole = traceback.format_exception(type(original), original, _fromUsers(original))
        return "".join(whole).rstrip("\n") + "\n" + text
    if isinstance(original, SyntaxError) and (original.text or "").strip():
        text += "\n    " + original.text.strip()  # the line Python could not read
    return text + "\nrefweb: (for the whole traceback, run it again with refweb --traceback ...)"
