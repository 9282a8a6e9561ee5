"""Tests for refweb.application.strports: listening services and ports
from description strings (guide: "Serving WSGI Applications")."""

import os
import socket
import ssl
import stat

import pytest

from refweb import resource, server
from refweb.application import internet, service, strports
from refweb.internet import endpoints
from support import get, makeCertificate


class Hello(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return "hello over %s" % ("tls" if request.isSecure() else "plain")


def site():
    return server.Site(Hello())


def test_service_tcp():
    """strports.service('tcp:...') is a TCPServer that serves once started."""
    s = strports.service("tcp:0:interface=127.0.0.1", site())
    assert isinstance(s, internet.TCPServer)
    s.startService()
    try:
        assert get(s._port.getHost().port, timeout=5)[2] == b"hello over plain"
    finally:
        s.stopService()


def test_service_bare_port_is_tcp():
    """strports.service('8080', f) is a TCPServer on 8080 (not started here)."""
    s = strports.service("8080", site())
    assert isinstance(s, internet.TCPServer) and s.args[0] == 8080


def test_service_unix_mode_and_lock(tmp_path):
    """strports.service('unix:PATH:mode=0660:wantPID=1') listens with that mode and a lock."""
    path = str(tmp_path / "s.sock")
    s = strports.service("unix:%s:mode=0660:wantPID=1" % path, site())
    assert isinstance(s, internet.UNIXServer)
    s.startService()
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
        assert endpoints.readLock(path) == os.getpid()
    finally:
        s.stopService()
    assert not os.path.exists(path + ".lock")


def test_service_ssl(tmp_path):
    """strports.service('ssl:...') serves HTTPS; request.isSecure() is true."""
    key, cert = makeCertificate(str(tmp_path))
    s = strports.service("ssl:0:privateKey=%s:certKey=%s:interface=127.0.0.1"
                         % (key, cert), site())
    assert isinstance(s, internet.SSLServer)
    s.startService()
    try:
        context = ssl.create_default_context(cafile=cert)
        assert get(s._port.getHost().port, timeout=5, context=context)[2] == b"hello over tls"
    finally:
        s.stopService()


def test_service_ssl_missing_certificate_fails_early(tmp_path):
    """A missing certificate file is reported when the service is made."""
    with pytest.raises(endpoints.TLSSetupError):
        strports.service("ssl:0:privateKey=%s" % (tmp_path / "none.pem"), site())


def test_service_bad_description():
    """A bad description raises BadDescription quoting it."""
    with pytest.raises(endpoints.BadDescription) as info:
        strports.service("tcp:eighty", site())
    assert "'tcp:eighty'" in str(info.value)


def test_service_in_an_application():
    """The guide's WSGI .tac shape: strports.service(...).setServiceParent(application)."""
    application = service.Application("example")
    s = strports.service("tcp:0:interface=127.0.0.1", site())
    s.setServiceParent(application)
    application.startService()
    try:
        port = s._port.getHost().port
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        application.stopService()
    assert s._port is None


def test_listen_returns_a_port():
    """strports.listen listens at once and returns the port."""
    port = strports.listen("tcp:0:interface=127.0.0.1", site())
    try:
        assert port.getHost().port > 0
    finally:
        port.stopListening()


def test_service_passes_reactor():
    """strports.service(..., reactor=R) makes a service that listens with R."""
    calls = []

    class FakeReactor:
        def listenTCP(self, port, factory, **kw):
            calls.append((port, kw))

    strports.service("tcp:81:backlog=7", "f", reactor=FakeReactor()).startService()
    assert calls == [(81, {"interface": "", "backlog": 7})]
