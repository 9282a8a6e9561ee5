# -*- test-case-name: tests.test_wsgi -*-
"""WSGIResource: serve a WSGI application (PEP 3333) as a resource.

Guide: "Serving WSGI Applications" -- ``WSGIResource(reactor,
wsgiThreadPool, application)``; "each application call (for each request)
is called within a thread ... a ThreadPool instance is used."

Where it sits in a request's journey: the Site walks the resource tree to a
WSGIResource (a leaf: every path below it belongs to the application), whose
``render`` builds the *environ* dict -- the keys every request shares were
prepared once, the rest are read from what the request already parsed --
and runs the application as one of the thread pool's jobs: in the worker
that read the request when the pool has a free slot, else on a pool thread;
then it returns NOT_DONE_YET.  The application's answer goes out with
``request.write`` (refweb's requests may be written from any thread;
``write`` blocks while the client is slow), and ends with
``request.finish()``, which lets the connection read its next request.

The rules of PEP 3333 this module keeps, in order of a response's life:

- environ strings are "bytes as latin-1 str": SCRIPT_NAME is the part of the
  path that led to this resource ('' at the root), PATH_INFO the rest;
- ``start_response(status, headers)`` only records the head; a second call
  needs ``exc_info``, and with ``exc_info`` after the head was sent it
  re-raises the application's exception;
- the head goes out with the first non-empty body chunk (or ``write()``
  call), so an application may change its mind until it has said something;
- body items must be bytes; a Content-Length given by the application is
  respected (we send no more, and cut the connection if it sent less);
- ``close()`` of the returned iterable is called whatever happens.

An application that fails before its head went out gets a 500 page; after,
the connection is cut, so the client sees a truncated response rather than
a complete-looking one.  Either way the traceback goes to the log, never to
the client, and the server keeps serving.

Start reading at ``WSGIResource.render``, then ``WSGIResponse.run``.
"""

import re

from refweb import error, grammar, wire
from refweb.http_headers import Headers
from refweb.python import log
from refweb.python.failure import Failure
from refweb.resource import Resource
from refweb.server import NOT_DONE_YET
from refweb.wsgi_environ import constantEnviron, makeEnviron

# Headers describing one connection; PEP 3333 forbids applications to set
# them.  Its list (and wsgiref's) leaves out Proxy-Connection; so does ours.
_HOP_BY_HOP = wire.HOP_BY_HOP - {"proxy-connection"}
_STATUS = re.compile(r"([1-5][0-9][0-9]) ([^\r\n]*)\Z")  # ASCII digits (grammar.py)
_TOKEN = grammar.pattern("token")
_BODYLESS = (204, 304)

class ApplicationError(Exception):
    """The application broke a rule of PEP 3333 that refweb checks.

    Logged as one line naming the rule: its traceback would only point into
    refweb's own checks, not at the application's mistake.
    """


def _checkStatus(status):
    if not isinstance(status, str):
        raise ApplicationError("the status must be a str like '200 OK', not %r" % (status,))
    match = _STATUS.match(status)
    if not match:
        raise ApplicationError("the status must be '<3 digits> <reason>', not %r" % (status,))
    if status.startswith("1"):
        # RFC 9110 §15.2: a 1xx is an interim answer, always followed by a
        # final one; start_response sets the one and only final status, and
        # 100 Continue is the server's to send (it does, for Expect).  waitress
        # sends a 1xx as if it were final and closes; refweb refuses it.
        raise ApplicationError("status %r is interim (1xx); a WSGI application must "
                               "give a final status (RFC 9110 §15.2)" % (status,))
    return int(match.group(1)), match.group(2)


def _checkHeaders(headers):
    """The application's header list, checked (PEP 3333 "The
    start_response() Callable"), and the Content-Length it gives (None: none)."""
    if not isinstance(headers, list):
        raise TypeError("response headers must be a list of (name, value) tuples")
    length = None
    for item in headers:
        if not (type(item) is tuple and len(item) == 2
                and isinstance(item[0], str) and isinstance(item[1], str)):
            raise TypeError("each response header must be a (str, str) tuple, not %r" % (item,))
        name, value = item
        if not _TOKEN.fullmatch(name) or "\r" in value or "\n" in value:
            raise ValueError("bad response header %r" % (item,))
        lower = name.lower()
        if lower in _HOP_BY_HOP:
            raise ValueError("hop-by-hop header %r is the server's business (PEP 3333)" % name)
        if lower == "content-length":
            length = grammar.parseDigits(value.strip())
            if length is None:
                raise ValueError("bad Content-Length %r" % (value,))
    return list(headers), length


class WSGIResponse:
    """One application call: its start_response, write, and body relay."""

    def __init__(self, application, request, constantEnviron=None):
        self.application = application
        self.request = request
        self.environ = makeEnviron(request, constantEnviron)
        self.status = None        # (code, reason) once start_response was called
        self.headers = None       # [(name, value)], as start_response was given them
        self.length = None        # the Content-Length among them, if any
        self.headersSent = False
        self.remaining = None     # bytes still allowed by that Content-Length, once sent
        # The application's headers are the response's: no text/html default
        # (what waitress and Twisted do too).
        request.defaultContentType = None

    @property
    def gone(self):
        """The client hung up (or reset its HTTP/2 stream), asked when it
        matters rather than told through a notifyFinish Deferred (2.4 µs a
        request): the transport closed (the ResponseChannel contract's
        ``disconnected``), or the request was told first -- a transport
        still sending what it had queued is not ``disconnected`` yet."""
        request = self.request
        return request.transport.disconnected or request.clientGone

    # -- the callables the application gets --------------------------------

    def startResponse(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.headersSent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None   # no reference cycle through the traceback
        elif self.status is not None:
            raise RuntimeError("start_response() called a second time without exc_info")
        code = _checkStatus(status)
        try:
            self.headers, self.length = _checkHeaders(headers)
        except (TypeError, ValueError) as exc:
            raise ApplicationError(str(exc)) from None
        self.status = code
        return self.write

    def write(self, data):
        """The ``write`` callable, and the way every body chunk goes out."""
        if self.status is None:
            raise RuntimeError("body data before start_response() was called")
        if not isinstance(data, bytes):
            raise TypeError("the WSGI application gave a %s where bytes are required "
                            "(PEP 3333: body items must be bytes)" % type(data).__name__)
        if not self.headersSent:
            self._sendHeaders()
        if self.remaining is not None:
            if len(data) > self.remaining:
                log.msg("WSGI: %s %s: body longer than its Content-Length; extra bytes dropped"
                        % (self.request.method, self.request.uri))
                data = data[:self.remaining]
            self.remaining -= len(data)
        if data or not self.request.startedWriting:
            self.request.write(data)

    def _sendHeaders(self):
        code, reason = self.status
        request = self.request
        request.setResponseCode(code, reason or None)
        # Lines of one name go together, whatever case each was given in:
        # setRawHeaders replaces what a name had, so one call per name.
        grouped = {}
        for name, value in self.headers:
            grouped.setdefault(name.lower(), (name, []))[1].append(value)
        for name, values in grouped.values():
            request.responseHeaders.setRawHeaders(name, values)
        self.remaining = self.length
        self.headersSent = True

    # -- running the application (in a pool thread) -----------------------

    def run(self):
        result = None
        failure = None
        try:
            result = self.application(self.environ, self.startResponse)
            self._sendBody(result)
        except BaseException:   # noqa: B902 -- a pool thread has nobody else to tell
            failure = Failure()
        finally:
            closeFailure = self._close(result)
        self.environ["wsgi.errors"].flush()
        failure = failure or closeFailure
        if failure is not None:
            self._failed(failure)
        elif self.gone:
            self._release()
        else:
            self._finish()

    def _sendBody(self, result):
        if (self.status is not None and not self.headersSent and self.length is None
                and isinstance(result, (list, tuple)) and len(result) == 1
                and isinstance(result[0], bytes)):
            # One known chunk: say its length rather than chunk it (PEP 3333 allows).
            self.length = len(result[0])
            self.headers.append(("Content-Length", str(self.length)))
        for chunk in result:
            if not isinstance(chunk, bytes):
                raise TypeError("the WSGI application yielded a %s where bytes are required "
                                "(PEP 3333: body items must be bytes)" % type(chunk).__name__)
            if chunk:
                self.write(chunk)
            if self.gone:
                break   # the client left: stop asking the application for more

    def _close(self, result):
        """PEP 3333: close() is called however the request ended."""
        close = getattr(result, "close", None)
        if close is None:
            return None
        try:
            close()
        except BaseException:   # noqa: B902
            return Failure()
        return None

    def _finish(self):
        if not self.headersSent:
            if self.status is None:
                self._failed(Failure(ApplicationError(
                    "the WSGI application returned without calling start_response()")))
                return
            self._sendHeaders()
            if self.request.method == "HEAD" and self.remaining is None:
                # Nothing said how long the GET's body would be: send the head
                # now, with no Content-Length, rather than let finish() claim
                # 0 (RFC 9110 §9.3.2: a HEAD answer may omit the length it
                # does not know, but must not state a wrong one).
                self.request.write(b"")
        code = self.status[0]
        if (self.remaining and self.request.method != "HEAD" and code not in _BODYLESS):
            log.msg("WSGI: %s %s: %d bytes short of its Content-Length; connection cut"
                    % (self.request.method, self.request.uri, self.remaining))
            self._cut()
            return
        self._release()

    def _failed(self, failure):
        request = self.request
        where = "WSGI application error on %s %s:" % (request.method, request.uri)
        if failure.check(ApplicationError):
            log.msg("%s %s" % (where, failure.getErrorMessage()))
        else:
            log.err(failure, where)
        if self.gone:
            self._release()
        elif request.startedWriting:
            self._cut()
        else:
            self._internalError()

    def _internalError(self):
        """The application failed before sending anything: the 500 page,
        without whatever headers the application had set."""
        request = self.request
        request.responseHeaders = Headers()
        try:
            request.respondWithError(error.InternalServerError(
                detail="The application failed; see the server log."))
        except RuntimeError:
            pass   # the client left first; notifyFinish has told whoever asked

    def _cut(self):
        """Part of the response went out, the rest never will: close the
        connection so the client can tell (PEP 3333 "Error Handling")."""
        self.request.loseConnection()
        self._release()

    def _release(self):
        """finish(): ends the response, or, after a cut or a hang-up, just
        lets the connection's worker go (its bytes go nowhere)."""
        try:
            self.request.finish()
        except RuntimeError:
            pass   # the client left first; notifyFinish has told whoever asked


class WSGIResource(Resource):
    """A resource that runs a WSGI application for every request below it.

    ``reactor`` is kept for Twisted's signature; refweb's requests may be
    written from the pool thread directly, so no hop back is needed.
    """

    isLeaf = True

    def __init__(self, reactor, threadpool, application):
        Resource.__init__(self)
        self._reactor = reactor
        self._threadpool = threadpool
        self._application = application
        self._constantEnviron = constantEnviron()

    def render(self, request):
        """Run the application for ``request``: here, in the worker that read
        it, when the pool has a free slot (no hand-off to another thread);
        else on one of the pool's threads, when one is free.  Either way the
        pool bounds how many applications run at once."""
        response = WSGIResponse(self._application, request, self._constantEnviron)
        runHere = getattr(self._threadpool, "runHereIfFree", None)
        if runHere is not None and runHere(response.run):
            return NOT_DONE_YET  # already answered
        try:
            self._threadpool.callInThread(response.run)
        except RuntimeError:   # the pool was stopped: the server is shutting down
            raise error.ServiceUnavailable(detail="the WSGI thread pool has stopped")
        return NOT_DONE_YET

    def getChildWithDefault(self, name, request):
        # A leaf: traversal never asks.  If it does, the application is still
        # the one to answer, so hand back this resource.
        return self
