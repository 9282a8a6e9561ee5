# -*- test-case-name: tests.test_service -*-
"""Services that listen: TCPServer, UNIXServer, SSLServer.

Guide: "Advanced Configuration" -- ``i = internet.TCPServer(80, site)`` then
``i.setServiceParent(sc)``: nothing listens until the application starts.

Journey: Application.startService -> TCPServer.privilegedStartService (here)
-> reactor.listenTCP -> a Port that serves at once (threads: see
refweb/internet/threadedreactor.py).  stopService -> port.stopListening().

Each service keeps its constructor arguments and hands them to the
reactor's matching listenX method when started.  The bound port is kept as
``_port`` (the name Twisted uses), so ``service._port.getHost().port`` tells
a test which free port ``TCPServer(0, site)`` got.

Start reading at ``TCPServer``.
"""

from refweb.application.service import Service
from refweb.internet import endpoints


def _reactor():
    from refweb.internet import reactor
    return reactor


class _ListeningService(Service):
    """Listen when started, stop listening when stopped."""

    _port = None

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.reactor = kwargs.pop("reactor", None)

    def privilegedStartService(self):
        # Twisted binds here, before a daemon gives up root (ports below 1024)
        Service.privilegedStartService(self)
        if self._port is None:
            self._port = self._listen(self.reactor or _reactor())

    def startService(self):
        Service.startService(self)
        if self._port is None:
            self._port = self._listen(self.reactor or _reactor())

    def stopService(self):
        Service.stopService(self)
        port, self._port = self._port, None
        if port is not None:
            port.stopListening()

    def _listen(self, reactor):
        raise NotImplementedError

    def __repr__(self):
        shown = ", ".join(repr(a) for a in self.args[:1])
        return "<%s(%s)%s>" % (type(self).__name__, shown,
                               " running" if self.running else "")


class TCPServer(_ListeningService):
    """TCPServer(port, factory, backlog=50, interface='')."""

    def _listen(self, reactor):
        return reactor.listenTCP(*self.args, **self.kwargs)


class UNIXServer(_ListeningService):
    """UNIXServer(path, factory, backlog=50, mode=0o666, wantPID=False).

    With ``wantPID`` a lock file ``path.lock`` holds our pid, so after a
    crash the next start knows the leftover socket is stale (guide:
    "Spreadable Web Servers").
    """

    def _listen(self, reactor):
        return endpoints.listenUNIX(reactor, *self.args, **self.kwargs)


class SSLServer(_ListeningService):
    """SSLServer(port, factory, contextFactory, backlog=50, interface='').

    ``contextFactory`` is an ``ssl.SSLContext`` (see endpoints.sslContext) or
    any object whose ``getContext()`` returns one.
    """

    def _listen(self, reactor):
        return reactor.listenSSL(*self.args, **self.kwargs)
