# -*- test-case-name: tests.test_twcgi -*-
"""CGI: answer a request by running a program (RFC 3875, CGI/1.1).

Guide: "Serving PHP/Perl/CGI" (``FilteredScript`` with a ``filter``, used as
a ``static.File`` processor) and the cgi-bin example of "Advanced
Configuration" (``CGIDirectory``).

Journey: getChildForRequest reaches a ``CGIDirectory`` (a cgi-bin folder),
or a ``static.File`` whose ``processors`` map an extension to a script
class; either hands out a ``CGIScript``, a leaf, and the rest of the path
becomes its ``PATH_INFO``.  ``CGIScript.render`` then runs the program in
the worker thread answering the request (refweb is threaded, so blocking
there is fine)::

    request line + headers --> environment (RFC 3875 §4.1)
    request body           --> the script's stdin, fed by a helper thread
    script's stdout        --> header block (§6.3): Status, Location, fields
                           --> the response body, written as it comes
    script's stderr        --> the log, line by line

``render`` always answers itself and returns NOT_DONE_YET.  A script that
dies or writes a bad header block gives a 500 page; one that stays silent
for ``timeout`` seconds is killed and gives a 504 page (or, if its headers
were already sent, a cut connection, as does a body that ends short of the
Content-Length the script gave); both are raised as ``error.Error``
and become pages where every render error does (``server.Request.render``
-> ``Request.respondWithError`` -> ``error.pageResponse``).  In every case the child and anything
it started in its process group are killed and reaped before render returns.

Safety: the script gets no part of the server's environment but ``PATH``,
never ``HTTP_PROXY`` (the "httpoxy" hole), never the client's
``Authorization``; a cgi-bin folder maps only plain names inside itself.

Start reading at ``CGIScript.render``.
"""

import os
import re
import selectors
import signal
import subprocess
import threading
import time

from refweb import error, grammar, resource, server, wire
from refweb.http_headers import toText
from refweb.python import log

CHUNK = 64 * 1024
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"

# Request headers that never become HTTP_* variables, and why.
HIDDEN_REQUEST_HEADERS = {
    "proxy": "httpoxy: HTTP_PROXY would point the script's HTTP client at the attacker",
    "authorization": "RFC 3875 §4.1.18: credentials are not the script's to see",
    "proxy-authorization": "RFC 3875 §4.1.18: credentials meant for a proxy",
    "content-type": "given as CONTENT_TYPE (RFC 3875 §4.1.3)",
    "content-length": "given as CONTENT_LENGTH (RFC 3875 §4.1.2)",
}

# Fields of the script's header block that refweb does not pass on as they
# are: they describe one connection (RFC 9110 §7.6.1).  Proxy-Authenticate
# and Proxy-Authorization are left off: a script's own fields of those names
# reach the client.  Content-Length is checked and passed on by applyHeaders:
# it is what lets the client tell a script that died mid-body (RFC 9112 §8).
_NOT_PASSED_ON = ((wire.HOP_BY_HOP - {"proxy-authenticate", "proxy-authorization"})
                  | {"content-length"})

# A request header name safe to turn into a variable: "_" is refused because
# "X_Forwarded_For" would otherwise pass for X-Forwarded-For.
_ENV_HEADER_NAME = re.compile(r"[A-Za-z0-9-]+\Z")


class CGIError(Exception):
    """The script broke the CGI protocol: a 500 page."""


# -- the environment (RFC 3875 §4.1) ------------------------------------------

def cgiEnvironment(request, filename):
    """The meta-variables for running ``filename`` for ``request``."""
    client = request.getClientAddress()
    env = {
        "PATH": os.environ.get("PATH", DEFAULT_PATH),  # the only inherited variable
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": toText(server.version),
        "SERVER_NAME": toText(request.getRequestHostname()),
        "SERVER_PORT": str(request.getHost().port),
        "SERVER_PROTOCOL": request.clientproto,
        "REQUEST_METHOD": request.method,
        "REQUEST_URI": request.uri,
        # §4.1.13: the URL path that reached the script, not URL-encoded.
        "SCRIPT_NAME": "/" + "/".join(request.prepath) if request.prepath else "",
        "SCRIPT_FILENAME": filename,
        # §4.1.5: what is left of the path after the script's own segment.
        "PATH_INFO": "/" + "/".join(request.postpath) if request.postpath else "",
        "QUERY_STRING": request.uri.partition("?")[2],
        "REMOTE_ADDR": request.getClientIP() or "",
        # §4.1.9: refweb looks no names up, so the host is given as its address.
        "REMOTE_HOST": request.getClientIP() or "",
    }
    if getattr(client, "port", None) is not None:
        env["REMOTE_PORT"] = str(client.port)
    if request.isSecure():
        env["HTTPS"] = "on"
    size = _bodySize(request.content)
    if size or request.getHeader("content-length") is not None:
        env["CONTENT_LENGTH"] = str(size)
    if request.getHeader("content-type") is not None:
        env["CONTENT_TYPE"] = request.getHeader("content-type")
    env.update(headerVariables(request))
    for name, value in env.items():
        if "\0" in value:  # an environment cannot hold NUL (execve)
            raise error.BadRequest(detail="NUL byte in %s" % (name,))
    return env


def headerVariables(request):
    """``HTTP_*`` for each request header (RFC 3875 §4.1.18), repeated
    fields joined with ", " (``Cookie`` with "; ", RFC 6265 §5.4)."""
    env = {}
    for name, values in request.requestHeaders.getAllRawHeaders():
        name = toText(name)
        if name.lower() in HIDDEN_REQUEST_HEADERS or not _ENV_HEADER_NAME.match(name):
            continue
        joiner = "; " if name.lower() == "cookie" else ", "
        env["HTTP_" + name.upper().replace("-", "_")] = joiner.join(toText(v) for v in values)
    return env


def _bodySize(content):
    if content is None:
        return 0
    try:
        here = content.tell()
        size = content.seek(0, os.SEEK_END)
        content.seek(here)
        return size
    except (OSError, ValueError, AttributeError):
        return 0


# -- the header block (RFC 3875 §6.2, §6.3) -----------------------------------

def splitHeaderBlock(data):
    """``(headerBytes, bodyStart)`` once ``data`` holds the blank line that ends
    the header block (CRLF or bare LF line ends), else None."""
    start = 0
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            return None
        if data[start:end] in (b"", b"\r"):
            return data[:start], data[end + 1:]
        start = end + 1


def parseHeaderBlock(block):
    """``[(name, value), ...]`` from a header block; CGIError if any line is
    not ``name: value``, or there is no field at all (§6.2 needs one)."""
    fields = []
    for line in block.decode("latin-1").split("\n"):
        line = line[:-1] if line.endswith("\r") else line
        if not line:
            continue
        if not grammar.matches("field-line", line):  # a token, ":", no controls
            raise CGIError("bad header line %r" % (line[:80],))
        name, _, value = line.partition(":")
        fields.append((name, value.strip(" \t")))
    if not fields:
        raise CGIError("empty header block")
    return fields


def parseStatus(value):
    """``'404 Not Found'`` -> ``(404, 'Not Found')``; CGIError if malformed."""
    code, _, reason = value.partition(" ")
    number = grammar.parseStatusCode(code)  # 3 ASCII digits: not "2³³"
    if number is None or not 200 <= number <= 599:
        raise CGIError("bad Status %r" % (value[:80],))
    return number, reason.strip() or None


def parseLength(values):
    """The body length the script promised: one Content-Length of 1*DIGIT
    (RFC 9110 §8.6), or None without one; CGIError for anything else."""
    if not values:
        return None
    length = grammar.parseDigits(values[0]) if len(values) == 1 else None
    if length is None:
        raise CGIError("bad Content-Length %r" % (", ".join(values)[:80],))
    return length


def applyHeaders(request, fields):
    """Copy the script's fields onto the response; return the body length
    its Content-Length promised (None: no promise).  ``Status`` sets the
    code; a ``Location`` without one means 302 (§6.2.3, §6.2.4; refweb does
    not do §6.2.2's server-side redirect)."""
    status = None
    for name, value in fields:  # all checks first: a bad Status leaves no trace
        if name.lower() == "status":
            status = parseStatus(value)
    promised = parseLength([value for name, value in fields if name.lower() == "content-length"])
    seen = set()
    for name, value in fields:
        lower = name.lower()
        if lower == "status" or lower in _NOT_PASSED_ON:
            continue
        elif lower in seen:
            request.responseHeaders.addRawHeader(name, value)
        else:  # replaces whatever default the server had set (Content-Type)
            seen.add(lower)
            request.responseHeaders.setRawHeaders(name, [value])
    if status is None and "location" in seen:
        status = (302, None)
    if status is not None:
        request.setResponseCode(*status)
    if promised is not None:
        request.responseHeaders.setRawHeaders("content-length", [str(promised)])
    return promised


# -- one run of a script --------------------------------------------------------

class ScriptTimeout(Exception):
    """The script said nothing for ``timeout`` seconds."""


class CGIProcess:
    """One running script: feeds its stdin, reads its stdout and stderr
    together (so neither pipe can fill up and stall it), and kills and
    reaps it and its process group when done."""

    def __init__(self, argv, env, cwd, name):
        self.name = name
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=cwd, env=env, close_fds=True, bufsize=0,
            start_new_session=True)  # own process group: one kill reaches its children too
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ, "stdout")
        self.selector.register(self.proc.stderr, selectors.EVENT_READ, "stderr")
        self.stdoutDone = False
        self.closed = False
        self._errLine = b""
        self.feeder = None

    def feed(self, content):
        """Start a thread that copies ``content`` to the script's stdin, then
        closes it (a thread, so a big body and a big answer cannot deadlock)."""
        self.feeder = threading.Thread(target=_copyToPipe, args=(content, self.proc.stdin),
                                       name="refweb-cgi-stdin:%d" % (self.proc.pid,),
                                       daemon=True)
        self.feeder.start()

    def read(self, timeout):
        """The next bytes of stdout (b"" at its end), logging stderr meanwhile.
        Raises ScriptTimeout if stdout stays silent for ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self.stdoutDone:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ScriptTimeout()
            for key, _ in self.selector.select(remaining):
                data = os.read(key.fileobj.fileno(), CHUNK)
                if key.data == "stderr":
                    self._logStderr(data)
                    continue
                if not data:
                    self.stdoutDone = True
                    self.selector.unregister(key.fileobj)
                return data
        return b""

    def _logStderr(self, data):
        if not data:  # stderr closed: flush a last partial line
            self.selector.unregister(self.proc.stderr)
            data = b"\n" if self._errLine else b""
        lines = (self._errLine + data).split(b"\n")
        self._errLine = lines.pop()[-4096:]  # an endless line is cut, not hoarded
        for line in lines:
            log.msg("CGI %s stderr: %s" % (self.name, line.decode("utf-8", "replace")))

    def close(self, grace):
        """Reap the script: if stdout ended, give it ``grace`` seconds to exit
        (its stderr still logged); else, or after that, kill its group."""
        if self.closed:
            return
        self.closed = True
        if self.stdoutDone:
            self._awaitExit(time.monotonic() + grace)
        self.kill()
        self.proc.wait()
        if self.feeder is not None:
            self.feeder.join(5)
        self.selector.close()
        for pipe in (self.proc.stdout, self.proc.stderr):
            pipe.close()

    def _awaitExit(self, deadline):
        """Log stderr until the script exits or ``deadline`` passes."""
        while time.monotonic() < deadline:
            if not self.selector.get_map():  # stderr closed: nothing to log, just wait
                try:
                    self.proc.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
                return
            exited = self.proc.poll() is not None
            # Once it has exited, only what is already in the pipe is read: a
            # child it left behind holding stderr open must not hold us too.
            for key, _ in self.selector.select(0 if exited else 0.1):
                self._logStderr(os.read(key.fileobj.fileno(), CHUNK))
            if exited:
                return

    def kill(self):
        """SIGKILL the script's whole process group, unless already reaped.
        (Until it is reaped its pid, which is also the group id, cannot be
        reused, so this never hits a stranger.)"""
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _copyToPipe(content, pipe):
    """Thread body: the request body to the script's stdin, in chunks."""
    try:
        if content is not None:
            content.seek(0)
            while True:
                chunk = content.read(CHUNK)
                if not chunk:
                    break
                view = memoryview(chunk)
                while view:  # a raw pipe write may take only part of a chunk
                    view = view[pipe.write(view):]
    except (OSError, ValueError):
        pass  # the script stopped reading its stdin: its choice
    finally:
        try:
            pipe.close()
        except OSError:
            pass


# -- the resources ----------------------------------------------------------------

class CGIScript(resource.Resource):
    """A CGI program.  ``CGIScript(filename, registry)`` fits ``static.File``'s
    ``processors``.  Hooks: ``command()`` (the argv), class attributes
    ``timeout`` (seconds of silence before a 504) and ``maxHeaderBytes``."""

    isLeaf = True
    timeout = 30
    maxHeaderBytes = 64 * 1024
    listingType = "CGI script"  # a directory listing's Type column

    def __init__(self, filename, registry=None):
        super().__init__()
        self.filename = os.path.abspath(filename)
        self.registry = registry

    def command(self):
        """The argv to run: the script itself (RFC 3875 §7.2; no query words
        on the command line, as §4.4 allows)."""
        return [self.filename]

    def render(self, request):
        env = cgiEnvironment(request, self.filename)
        script = self.spawn(env)
        try:
            script.feed(request.content)
            self.respond(request, script)
        finally:
            script.close(grace=self.timeout)
        return server.NOT_DONE_YET

    def spawn(self, env):
        """Start the script in its own folder; file errors become 404/403/500."""
        if not os.path.isfile(self.filename):
            raise error.NotFound()
        name = os.path.basename(self.filename)
        try:
            return CGIProcess(self.command(), env, os.path.dirname(self.filename), name)
        except PermissionError:
            raise error.Forbidden(detail="The script may not be run.")
        except OSError as e:
            log.msg("CGI %s could not start: %s" % (name, e))
            raise error.InternalServerError(detail="The script could not be started.")

    def respond(self, request, script):
        """Header block first (errors are still pages), then the body."""
        try:
            fields, body = self.readHeaderBlock(script)
            promised = applyHeaders(request, fields)
        except CGIError as e:
            log.msg("CGI %s: %s" % (script.name, e))
            raise error.InternalServerError(detail="The script's answer was malformed.")
        except ScriptTimeout:
            log.msg("CGI %s: no answer in %s s, killed" % (script.name, self.timeout))
            raise error.GatewayTimeout(detail="The script did not answer in time.")
        self.copyBody(request, script, body, promised)

    def readHeaderBlock(self, script):
        """``([(name, value), ...], bodyStart)``; CGIError if the block is bad,
        over ``maxHeaderBytes``, or never ends; ScriptTimeout if it is slow."""
        data = b""
        while True:
            found = splitHeaderBlock(data)
            if found is not None:
                if len(found[0]) > self.maxHeaderBytes:
                    raise CGIError("header block over %d bytes" % (self.maxHeaderBytes,))
                return parseHeaderBlock(found[0]), found[1]
            if len(data) > self.maxHeaderBytes:
                raise CGIError("header block over %d bytes" % (self.maxHeaderBytes,))
            chunk = script.read(self.timeout)
            if not chunk:
                raise CGIError("output ended before the header block did")
            data += chunk

    def copyBody(self, request, script, body, promised=None):
        """Stream stdout to the client as it comes, then finish -- or, if the
        body cannot be the one the head announced, cut the connection so the
        client sees an incomplete answer rather than a short one (RFC 9112 §8)."""
        try:
            sent = self.relayBody(request, script, body, promised)
        except ScriptTimeout:  # status and headers are gone already
            log.msg("CGI %s: silent for %s s mid-body, killed" % (script.name, self.timeout))
            script.close(grace=0)  # killed and reaped before the client hears of it
            request.loseConnection()
        else:
            if sent is not None and _endedShort(request, promised, sent):
                log.msg("CGI %s: stdout ended after %d of the %d body bytes its "
                        "Content-Length promised; connection cut" % (script.name, sent, promised))
                request.loseConnection()
        try:
            request.finish()  # on a closed connection this only wraps up the request
        except RuntimeError:
            pass  # the channel already knew the client was gone: nothing to finish

    def relayBody(self, request, script, body, promised):
        """Copy stdout to the client until it ends; the bytes copied, or None
        if the client left (the script is then killed by render)."""
        sent = 0
        request.write(body)  # the head goes out now, even if the body is empty so far
        while not _clientGone(request):
            sent += len(body)
            if promised is not None and sent > promised:
                # What went past the promise would break the framing (HTTP/1.1
                # drops it, RFC 9112 §6.3): read no more.
                log.msg("CGI %s: wrote past its Content-Length of %d; the rest dropped, "
                        "script killed" % (script.name, promised))
                return sent
            body = script.read(self.timeout)
            if not body:
                return sent
            request.write(body)
        log.msg("CGI %s: the client left, script killed" % (script.name,))
        return None


def _endedShort(request, promised, sent):
    """True if a body was due and stdout ended before the length promised
    (a HEAD, 204 or 304 answer has none: its Content-Length is the GET's)."""
    if promised is None or sent >= promised:
        return False
    return request.method != "HEAD" and request.code not in (204, 304)


def _clientGone(request):
    """True once the client's connection is closed (writes are then dropped)."""
    transport = getattr(request, "transport", None)
    return bool(getattr(transport, "disconnected", False))


class FilteredScript(CGIScript):
    """A script run by an interpreter: ``filter FILE`` (guide: the
    ``PerlScript`` example sets ``filter = '/usr/bin/perl'``).  The file
    needs no exec bit and no ``#!`` line."""

    filter = None
    listingType = "script run by a filter"

    def command(self):
        if not self.filter:
            raise error.InternalServerError(detail="This FilteredScript has no filter set.")
        return [self.filter, self.filename]


class CGIDirectory(resource.Resource):
    """A folder of CGI programs (the guide's ``/cgi-bin``).

    A child is an executable regular file (a CGIScript) or a subfolder (a
    CGIDirectory).  Folders are never listed (403), a file without its exec
    bit is refused (403), and a name that is empty, hidden, ``.``/``..``,
    or holds ``/``, ``\\`` or NUL is a 404: nothing outside the folder runs.
    """

    cgiScript = CGIScript

    def __init__(self, pathname, registry=None):
        super().__init__()
        self.path = os.path.abspath(pathname)
        self.registry = registry

    def getChild(self, path, request):
        if path == "":
            return resource.ForbiddenResource("CGI folders are not listed.")
        if path.startswith(".") or any(c in path for c in "/\\\0"):
            return resource.NoResource("No such CGI script.")
        child = os.path.join(self.path, path)
        if not _inside(self.path, child) or not os.path.exists(child):
            return resource.NoResource("No such CGI script.")
        if os.path.isdir(child):
            folder = type(self)(child, self.registry)
            folder.cgiScript = self.cgiScript  # a subfolder runs scripts the same way
            return folder
        if not os.path.isfile(child) or not os.access(child, os.X_OK):
            return resource.ForbiddenResource("This file may not be run.")
        return self.cgiScript(child, self.registry)

    def render(self, request):
        raise error.Forbidden(detail="CGI folders are not listed.")


def _inside(folder, path):
    """True if ``path``, every symlink resolved, lies inside ``folder``."""
    root = os.path.realpath(folder)
    return os.path.realpath(path).startswith(root.rstrip(os.sep) + os.sep)
