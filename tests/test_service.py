"""Tests for refweb.application: service, internet (listening services) and
app (loading .tac files, starting and stopping applications).

No subprocesses here: services listen with the real reactor on free ports
and are stopped by each test.
"""

import os
import socket

import pytest

from refweb import resource, server
from refweb.application import app, internet, service, strports
from refweb.internet import reactor
from support import get


class Hello(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return "hello"


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


class Recorder(service.Service):
    """A service that notes its starts and stops in a shared list."""

    def __init__(self, label, journal):
        self.label, self.journal = label, journal

    def startService(self):
        service.Service.startService(self)
        self.journal.append(("start", self.label))

    def stopService(self):
        service.Service.stopService(self)
        self.journal.append(("stop", self.label))


# -- Service and MultiService -------------------------------------------------

def test_service_start_stop_sets_running():
    """startService/stopService switch ``running``."""
    s = service.Service()
    assert not s.running
    s.startService()
    assert s.running
    s.stopService()
    assert not s.running


def test_set_service_parent_and_disown():
    """setServiceParent adds the service to its parent; disownServiceParent removes it."""
    parent, child = service.MultiService(), service.Service()
    child.setServiceParent(parent)
    assert child.parent is parent and list(parent) == [child]
    child.disownServiceParent()
    assert child.parent is None and list(parent) == []


def test_set_service_parent_moves_between_parents():
    """Setting a new parent leaves the old one first."""
    first, second, child = service.MultiService(), service.MultiService(), service.Service()
    child.setServiceParent(first)
    child.setServiceParent(second)
    assert list(first) == [] and list(second) == [child] and child.parent is second


def test_multiservice_starts_in_order_and_stops_in_reverse():
    """Children start in the order added and stop newest first."""
    journal = []
    parent = service.MultiService()
    for label in "abc":
        Recorder(label, journal).setServiceParent(parent)
    parent.startService()
    parent.stopService()
    assert journal == [("start", "a"), ("start", "b"), ("start", "c"),
                       ("stop", "c"), ("stop", "b"), ("stop", "a")]


def test_adding_to_a_running_multiservice_starts_the_child():
    """A child added while the parent runs is started at once, and stopped when removed."""
    journal = []
    parent = service.MultiService()
    parent.startService()
    child = Recorder("late", journal)
    parent.addService(child)
    assert journal == [("start", "late")]
    parent.removeService(child)
    assert journal == [("start", "late"), ("stop", "late")]


def test_get_service_named():
    """A named child is found by name; a duplicate name is refused."""
    parent, child = service.MultiService(), service.Service()
    child.setName("web")
    child.setServiceParent(parent)
    assert parent.getServiceNamed("web") is child
    other = service.Service()
    other.setName("web")
    with pytest.raises(RuntimeError):
        parent.addService(other)
    with pytest.raises(KeyError):
        parent.getServiceNamed("nothing")


def test_set_name_refused_with_parent():
    """A service cannot be renamed while it has a parent."""
    child = service.Service()
    child.setServiceParent(service.MultiService())
    with pytest.raises(RuntimeError):
        child.setName("late")


def test_stop_errors_do_not_stop_the_others(capsys):
    """One child failing to stop is logged; the other children still stop."""
    journal = []

    class Broken(service.Service):
        def stopService(self):
            raise RuntimeError("cannot stop")

    parent = service.MultiService()
    Recorder("a", journal).setServiceParent(parent)
    Broken().setServiceParent(parent)
    parent.startService()
    parent.stopService()
    assert ("stop", "a") in journal
    assert "cannot stop" in capsys.readouterr().err


def test_multiservice_len_and_repr():
    """len() counts the children; repr names the class and the name."""
    parent = service.MultiService()
    service.Service().setServiceParent(parent)
    parent.setName("top")
    assert len(parent) == 1
    assert repr(parent) == "<MultiService 'top'>"


# -- Application and the adapters ----------------------------------------------

def test_application_is_its_own_collection():
    """IServiceCollection(application) and IService(application) give the application."""
    application = service.Application("web", uid=1000, gid=1000)
    assert service.IServiceCollection(application) is application
    assert service.IService(application) is application
    assert (application.name, application.uid, application.gid) == ("web", 1000, 1000)
    assert "web" in repr(application)


def test_add_collection_is_add_service():
    """The guide's serviceCollection.addCollection(...) adds a service."""
    application = service.Application("web")
    child = service.Service()
    service.IServiceCollection(application).addCollection(child)
    assert list(application) == [child] and child.parent is application


def test_set_service_parent_on_application():
    """A service may name the Application itself as parent (the WSGI .tac does)."""
    application = service.Application("web")
    child = service.Service()
    child.setServiceParent(application)
    assert list(application) == [child]


def test_adapters_refuse_other_objects():
    """IService/IServiceCollection of something else is a TypeError, or the default."""
    with pytest.raises(TypeError):
        service.IServiceCollection(object())
    with pytest.raises(TypeError):
        service.IService("nope")
    assert service.IService(42, None) is None


# -- internet: listening services ------------------------------------------

def test_tcp_server_listens_only_while_running():
    """TCPServer binds when started and releases the port when stopped."""
    tcp = internet.TCPServer(0, server.Site(Hello()), interface="127.0.0.1")
    assert tcp._port is None
    tcp.startService()
    port = tcp._port.getHost().port
    try:
        assert get(port, timeout=5)[::2] == (200, b"hello")
        assert "running" in repr(tcp)
    finally:
        tcp.stopService()
    assert tcp._port is None and refused(port)
    tcp.stopService()  # a second stop is harmless


def test_privileged_start_binds_once():
    """privilegedStartService binds; the startService after it does not bind again."""
    tcp = internet.TCPServer(0, server.Site(Hello()), interface="127.0.0.1")
    tcp.privilegedStartService()
    first = tcp._port
    tcp.startService()
    try:
        assert tcp._port is first and tcp.running
    finally:
        tcp.stopService()


def test_unix_server_with_lock(tmp_path):
    """UNIXServer(..., wantPID=True) writes the lock while running and removes it on stop."""
    path = str(tmp_path / "web.sock")
    unix = internet.UNIXServer(path, server.Site(Hello()), mode=0o600, wantPID=True)
    unix.startService()
    try:
        with open(path + ".lock") as f:
            assert int(f.read()) == os.getpid()
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(path)
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert s.recv(1000).startswith(b"HTTP/1.0 200")
    finally:
        unix.stopService()
    assert not os.path.exists(path) and not os.path.exists(path + ".lock")


def test_service_uses_given_reactor():
    """A listening service calls the reactor it was given."""
    calls = []

    class FakeReactor:
        def listenTCP(self, *args, **kw):
            calls.append((args, kw))
            return None

    tcp = internet.TCPServer(80, "factory", reactor=FakeReactor())
    tcp.startService()
    assert calls == [((80, "factory"), {})]


# -- app: .tac files ------------------------------------------------------------

def writeTac(tmp_path, text, name="app.tac"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


TAC = """\
from refweb.application import internet, service
from refweb import server
from helper import Hello
application = service.Application('test')
site = server.Site(Hello())
internet.TCPServer(0, site, interface='127.0.0.1').setServiceParent(
    service.IServiceCollection(application))
seen_file = __file__
"""


def test_load_application_runs_the_tac(tmp_path, monkeypatch):
    """loadApplication runs the file with __file__ set and its folder importable."""
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    (tmp_path / "helper.py").write_text(
        "from refweb import resource\n"
        "class Hello(resource.Resource):\n"
        "    isLeaf = True\n"
        "    def render_GET(self, request):\n"
        "        return 'from tac'\n")
    application = app.loadApplication(writeTac(tmp_path, TAC))
    assert application.name == "test"
    app.startApplication(application)
    try:
        port = next(iter(application))._port.getHost().port
        assert get(port, timeout=5)[::2] == (200, b"from tac")
    finally:
        app.stopApplication(application)
    assert refused(port)
    app.stopApplication(application)  # twice is harmless


def test_tac_without_application(tmp_path):
    """A .tac that never sets `application` is a one-line error naming the file."""
    path = writeTac(tmp_path, "x = 1\n")
    with pytest.raises(app.ApplicationError) as info:
        app.loadApplication(path)
    message = str(info.value)
    assert path in message and "'application'" in message and "\n" not in message


def test_tac_syntax_error_names_file_and_line(tmp_path):
    """A syntax error is reported with the file and the line."""
    path = writeTac(tmp_path, "a = 1\nb = (\n")
    with pytest.raises(app.ApplicationError) as info:
        app.loadApplication(path)
    assert "%s, line 2: SyntaxError" % path in str(info.value)


def test_tac_exception_names_file_and_line(tmp_path):
    """An exception while running the .tac names the file, the line and the error."""
    path = writeTac(tmp_path, "import os\n\nundefined_name()\n")
    with pytest.raises(app.ApplicationError) as info:
        app.loadApplication(path)
    assert str(info.value).startswith("%s, line 3: NameError:" % path)


def test_tac_exception_raised_elsewhere(tmp_path):
    """An error raised inside refweb names the .tac line that called it, not
    refweb's own file (a frame of the user's code is what the user can fix)."""
    path = writeTac(tmp_path, "from refweb.application import strports\n"
                              "strports.service('tcp:nope', None)\n")
    with pytest.raises(app.ApplicationError) as info:
        app.loadApplication(path)
    message = str(info.value)
    assert "app.tac, line 2: BadDescription" in message and "endpoints.py" not in message


def test_tac_missing_file(tmp_path):
    """A missing .tac is a clear error, not a traceback."""
    with pytest.raises(app.ApplicationError) as info:
        app.loadApplication(str(tmp_path / "nothere.tac"))
    assert "cannot read" in str(info.value)


def test_tac_application_of_wrong_type(tmp_path):
    """`application` must be a service; anything else is reported."""
    with pytest.raises(app.ApplicationError) as info:
        app.loadApplication(writeTac(tmp_path, "application = 42\n"))
    assert "not a service.Application" in str(info.value)


def test_tac_sys_exit_is_reported(tmp_path):
    """A .tac calling sys.exit() does not end the loader silently."""
    with pytest.raises(app.ApplicationError):
        app.loadApplication(writeTac(tmp_path, "import sys\nsys.exit(3)\n"))


def test_start_application_failure_stops_what_started():
    """If the second port is taken, the first is released and the error goes up."""
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    taken = blocker.getsockname()[1]
    application = service.Application("two ports")
    first = internet.TCPServer(0, server.Site(Hello()), interface="127.0.0.1")
    first.setServiceParent(application)
    internet.TCPServer(taken, server.Site(Hello()), interface="127.0.0.1").setServiceParent(
        application)
    try:
        with pytest.raises(Exception) as info:
            app.startApplication(application)
        assert str(taken) in str(info.value)
        assert first._port is None
    finally:
        blocker.close()


def test_start_application_stops_at_shutdown(monkeypatch):
    """startApplication registers a 'before shutdown' trigger that stops the services."""
    triggers = []
    monkeypatch.setattr(reactor, "addSystemEventTrigger",
                        lambda *a: triggers.append(a))
    application = service.Application("web")
    strports.service("tcp:0:interface=127.0.0.1", server.Site(Hello())).setServiceParent(
        application)
    app.startApplication(application)
    (phase, event, function, arg), = triggers
    assert (phase, event) == ("before", "shutdown")
    function(arg)
    assert not application.running
