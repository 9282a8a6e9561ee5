# -*- test-case-name: tests.test_wsgi -*-
"""The WSGI environ (PEP 3333, "environ Variables"): what an application is
told about its request.

Guide: "Serving WSGI Applications" -- the application "is called within a
thread" with an environ and a start_response; this module makes the first.

Where it sits in a request's journey: ``wsgi.WSGIResource.render`` (step
7) makes a ``wsgi.WSGIResponse``, which builds the environ here before it
calls the application: the keys every request shares come from
``constantEnviron`` (prepared once per resource), the rest from what the
request already parsed -- its path split into SCRIPT_NAME and PATH_INFO,
its addresses, its headers as HTTP_* keys -- and the body as
``wsgi.input``.  Everything is read from the request; nothing here reads
the socket.

Start reading at ``makeEnviron``.
"""

import threading

from refweb.http_request import bodyLength
from refweb.python import log

SERVER_SOFTWARE = "refweb/" + __import__("refweb").__version__

# Request headers that do not become HTTP_* keys.  Content-Type and -Length
# have keys of their own (PEP 3333).  Transfer-Encoding described the body
# as it crossed the wire; the application reads it de-chunked, with its
# length in CONTENT_LENGTH, and a framework that saw "chunked" would try to
# de-chunk it again or refuse it (Werkzeug, bottle and httpbin all did).
# HTTP_PROXY is left out for "httpoxy" (CVE-2016-5385 and kin): a client's
# "Proxy:" header would otherwise sit where HTTP clients look for the proxy
# they must use, and an application that copies its environ into os.environ
# (a CGI bridge, a subprocess) would send its outgoing requests to the client's
# choice of host.  No standard request header is named Proxy.
_NOT_PASSED = frozenset(["HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING",
                         "HTTP_PROXY"])


def wsgiString(text):
    """A decoded URL segment -> the PEP 3333 form: its bytes as latin-1."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def constantEnviron():
    """The environ keys whose values are the same for every request: a
    WSGIResource prepares them once and copies them into each environ."""
    return {
        "SERVER_SOFTWARE": SERVER_SOFTWARE,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
        # wsgi.input ends where the body ends (an extension Werkzeug and
        # mod_wsgi read): an application may read to EOF without a length.
        "wsgi.input_terminated": True,
    }


def makeEnviron(request, constant=None):
    """The environ dict for ``request`` (PEP 3333, "environ Variables"):
    ``constant`` (``constantEnviron()``, prepared once per resource), then
    what the request already parsed -- its path, addresses and headers."""
    environ = dict(constantEnviron() if constant is None else constant)
    scriptName, pathInfo = scriptNameAndPathInfo(request)
    clientIP = request.getClientIP() or ""
    environ["REQUEST_METHOD"] = request.method
    environ["SCRIPT_NAME"] = scriptName
    environ["PATH_INFO"] = pathInfo
    environ["QUERY_STRING"] = request.uri.partition("?")[2]
    environ["CONTENT_TYPE"] = request.getHeader("content-type") or ""
    environ["SERVER_NAME"] = request.getRequestHostname()
    environ["SERVER_PORT"] = str(getattr(request.getHost(), "port", ""))
    environ["SERVER_PROTOCOL"] = request.clientproto
    environ["REMOTE_ADDR"] = clientIP
    # RFC 3875 §4.1.9: with no name looked up, the host is its address.
    environ["REMOTE_HOST"] = clientIP
    environ["wsgi.url_scheme"] = "https" if request.isSecure() else "http"
    environ["wsgi.input"] = InputStream(request.content)
    environ["wsgi.errors"] = ErrorStream()
    length = _contentLength(request)
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    port = getattr(request.getClientAddress(), "port", None)
    if port is not None:
        environ["REMOTE_PORT"] = str(port)
    for name, values in request.requestHeaders.getAllRawHeaders():
        key = environKey(name)
        if key is not None:
            environ[key] = ("; " if key == "HTTP_COOKIE" else ", ").join(values)
    return environ


def scriptNameAndPathInfo(request):
    """SCRIPT_NAME, the path that led to this resource ('' at the root), and
    PATH_INFO, the rest: decoded, each as its bytes read as latin-1."""
    scriptName = "/" + wsgiString("/".join(request.prepath)) if request.prepath else ""
    pathInfo = "/" + wsgiString("/".join(request.postpath)) if request.postpath else ""
    if scriptName.endswith("/"):
        # Mounted at a path ending in '/': SCRIPT_NAME may not end in one, so
        # the slash moves to PATH_INFO (SCRIPT_NAME + PATH_INFO stays the path).
        scriptName, pathInfo = scriptName[:-1], "/" + pathInfo
    return scriptName, pathInfo


def environKey(name):
    """The environ key of request header ``name`` ("User-Agent" ->
    "HTTP_USER_AGENT"), or None for a header that gets none."""
    if "_" in name:
        # After the rename "X_Forwarded_For" would pose as "X-Forwarded-For":
        # such names are dropped, as most servers do.
        return None
    key = "HTTP_" + name.upper().replace("-", "_")
    return None if key in _NOT_PASSED else key


def _contentLength(request):
    """CONTENT_LENGTH: the length of the body the channel stored.

    The channel read the whole body before the application runs, and
    de-chunked it, so its length is known even when the client sent it
    chunked (RFC 9112 §7.1).  None -- no key at all -- when the request had
    no body: PEP 3333 allows '' or no key, and only the missing key survives
    the common ``int(environ.get("CONTENT_LENGTH", 0))`` (waitress, gunicorn
    and wsgiref leave it out too).
    """
    length = bodyLength(request.content)
    framed = request.getHeader("content-length") or request.getHeader("transfer-encoding")
    return str(length) if length or framed else None


class InputStream:
    """``wsgi.input``: the request body the channel stored, read-only.

    The channel closes that file when the response ends or the client
    leaves (``HTTPChannel._releaseBody``), so an upload spooled to disk is
    freed then even if the application keeps ``wsgi.input``; a read after
    that raises ValueError in the application's own thread.
    """

    def __init__(self, fileobj):
        self._file = fileobj

    @property
    def closed(self):
        return self._file is not None and self._file.closed

    def read(self, size=-1):
        if self._file is None:
            return b""
        return self._file.read(-1 if size is None or size < 0 else size)

    def readline(self, size=-1):
        if self._file is None:
            return b""
        return self._file.readline(-1 if size is None or size < 0 else size)

    def readlines(self, hint=-1):
        if self._file is None:
            return []
        return self._file.readlines(-1 if hint is None else hint)

    def __iter__(self):
        return iter(self.readline, b"")


class ErrorStream:
    """``wsgi.errors``: a text stream whose lines go to refweb's log."""

    def __init__(self):
        self._partial = ""
        self._lock = threading.Lock()   # guards _partial (apps print from many threads)

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("wsgi.errors takes str (PEP 3333), not %s" % type(text).__name__)
        with self._lock:
            *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            log.msg("wsgi.errors: " + line)

    def writelines(self, seq):
        for text in seq:
            self.write(text)

    def flush(self):
        with self._lock:
            partial, self._partial = self._partial, ""
        if partial:
            log.msg("wsgi.errors: " + partial)


class FileWrapper:
    """``wsgi.file_wrapper``: a file-like object as an iterable of blocks."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        return iter(lambda: self.filelike.read(self.blksize), b"")
