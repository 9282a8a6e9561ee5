"""Tests for refweb.internet.endpoints: endpoint descriptions (parsed with no
sockets), the wantPID lock next to a UNIX socket, and TLS contexts.

The parsing tests are plain function calls.  The listening tests use the
real reactor on free ports / temporary socket paths and real clients.
"""

import os
import socket
import ssl
import stat
import subprocess
import sys

import pytest

from refweb.internet import endpoints, reactor
from refweb.internet.endpoints import BadDescription, parse
from refweb.internet.error import CannotListenError
from refweb.internet.protocol import Factory, Protocol
from support import makeCertificate


def clientContext(cert):
    """A client context that trusts exactly ``cert``."""
    context = ssl.create_default_context(cafile=cert)
    return context


class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(b"echo:" + data)
        self.transport.loseConnection()


def echoFactory():
    factory = Factory()
    factory.protocol = Echo
    return factory


def talkUNIX(path, data=b"hi"):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(data)
        return s.recv(100)


# -- parse: the grammar ------------------------------------------------------

def test_parse_tcp_port_only():
    """'tcp:8080' listens on every interface with the default backlog."""
    assert parse("tcp:8080") == ("TCP", (8080,), {"interface": "", "backlog": 50})


def test_parse_bare_number_means_tcp():
    """A description that is only a number is a TCP port (old strports spelling)."""
    assert parse("8080") == parse("tcp:8080")


def test_parse_tcp_keywords():
    """interface= and backlog= are read as keywords, port= too."""
    assert parse("tcp:port=80:interface=127.0.0.1:backlog=5") == (
        "TCP", (80,), {"interface": "127.0.0.1", "backlog": 5})


def test_parse_tcp_positional_interface():
    """Fields without a key fill port, interface, backlog in that order."""
    assert parse("tcp:80:127.0.0.1") == ("TCP", (80,), {"interface": "127.0.0.1",
                                                          "backlog": 50})


def test_parse_type_is_case_insensitive():
    """'TCP:80' is 'tcp:80'."""
    assert parse("TCP:80")[0] == "TCP"


def test_parse_backslash_escapes_colon():
    """A backslash makes ':' part of a value, e.g. an IPv6 interface."""
    assert parse(r"tcp:80:interface=\:\:1")[2]["interface"] == "::1"


def test_parse_backslash_escapes_equals_and_backslash():
    """'\\=' and '\\\\' are a plain '=' and '\\' inside a value."""
    assert parse(r"unix:/tmp/a\=b\\c")[1] == ("/tmp/a=b\\c",)


def test_quote_round_trips():
    """quote() escapes a value so that parse() gives it back unchanged."""
    path = "/tmp/odd:name=x\\y"
    assert parse("unix:" + endpoints.quote(path))[1] == (path,)


def test_parse_unix_defaults():
    """unix:PATH has mode 0666, backlog 50 and no lock file by default."""
    assert parse("unix:/tmp/s") == ("UNIX", ("/tmp/s",), {"mode": 0o666, "backlog": 50,
                                                          "wantPID": False})


def test_parse_unix_mode_is_octal():
    """mode=0660, mode=660 and mode=0o660 are the same octal permission bits."""
    for text in ("0660", "660", "0o660"):
        assert parse("unix:/tmp/s:mode=" + text)[2]["mode"] == 0o660


def test_parse_unix_wantpid_and_lockfile():
    """wantPID=1 (the guide's spelling) and lockfile=1 both ask for the lock."""
    assert parse("unix:/tmp/s:wantPID=1")[2]["wantPID"] is True
    assert parse("unix:/tmp/s:lockfile=1")[2]["wantPID"] is True
    assert parse("unix:/tmp/s:wantPID=0")[2]["wantPID"] is False


def test_parse_ssl_cert_defaults_to_key():
    """ssl: without certKey leaves it None (the key file holds both)."""
    kind, args, kw = parse("ssl:443:privateKey=k.pem")
    assert (kind, args, kw["privateKey"], kw["certKey"]) == ("SSL", (443,), "k.pem", None)


def test_parse_ssl_all_fields():
    """ssl: takes privateKey, certKey, interface and backlog."""
    assert parse("ssl:8443:privateKey=k.pem:certKey=c.pem:interface=127.0.0.1") == (
        "SSL", (8443,), {"privateKey": "k.pem", "certKey": "c.pem",
                         "interface": "127.0.0.1", "backlog": 50})


# -- parse: errors say what was wrong and what was expected -------------------

@pytest.mark.parametrize("description, problem", [
    ("", "empty"),
    ("tcp", "no port"),
    ("tcp:http", "port must be a number"),
    ("tcp:70000", "port must be a number"),
    ("tcp:80:colour=blue", "unknown option 'colour'"),
    ("tcp:80:port=81", "port given twice"),
    ("tcp:80:x:5:extra", "too many fields"),
    ("tcp:80:backlog=0", "backlog must be a positive"),
    ("udp:53", "unknown type 'udp'"),
    ("unix:", "may not be empty"),
    ("unix:/tmp/s:mode=999", "mode must be octal"),
    ("unix:/tmp/s:wantPID=maybe", "expected 1 or 0"),
])
def test_parse_errors_quote_the_description(description, problem):
    """A bad description raises BadDescription quoting it, the problem and the form expected."""
    with pytest.raises(BadDescription) as info:
        parse(description)
    message = str(info.value)
    assert repr(description) in message
    assert problem in message
    assert "expected" in message


def test_bad_description_is_a_value_error():
    """BadDescription is a ValueError, so callers may catch either."""
    with pytest.raises(ValueError):
        parse("tcp:nope")


def test_tcp_error_shows_tcp_usage():
    """An error about a tcp: description shows the tcp form, not every form."""
    with pytest.raises(BadDescription) as info:
        parse("tcp:x")
    assert "tcp:PORT[:interface=ADDRESS]" in str(info.value)
    assert "unix:" not in str(info.value)


def test_parse_non_string():
    """A non-string description is refused clearly, not with a TypeError."""
    with pytest.raises(BadDescription):
        parse(None)


# -- listen ------------------------------------------------------------------

def test_listen_tcp_serves_on_a_free_port():
    """listen('tcp:0:interface=127.0.0.1', f) binds a free port that answers."""
    port = endpoints.listen("tcp:0:interface=127.0.0.1", echoFactory())
    try:
        with socket.create_connection(("127.0.0.1", port.getHost().port), timeout=5) as s:
            s.sendall(b"x")
            assert s.recv(100) == b"echo:x"
    finally:
        port.stopListening()


def test_listen_unix_with_mode(tmp_path):
    """unix:PATH:mode=0600 creates the socket with exactly those permissions."""
    path = str(tmp_path / "s.sock")
    port = endpoints.listen("unix:%s:mode=0600" % path, echoFactory())
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert talkUNIX(path) == b"echo:hi"
    finally:
        port.stopListening()
    assert not os.path.exists(path)


def test_unix_without_wantpid_refuses_leftover_socket(tmp_path):
    """Without wantPID a socket file left by a crash stops the next listen (as the guide warns)."""
    path = str(tmp_path / "s.sock")
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(path)
    leftover.close()
    with pytest.raises(CannotListenError):
        endpoints.listen("unix:" + path, echoFactory())


def test_wantpid_removes_stale_socket_and_lock(tmp_path):
    """With wantPID, a lock naming a dead process marks the leftover socket stale: replaced."""
    path = str(tmp_path / "s.sock")
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(path)
    leftover.close()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with open(path + ".lock", "w") as f:
        f.write("%d\n" % dead.pid)
    port = endpoints.listen("unix:%s:wantPID=1" % path, echoFactory())
    try:
        assert endpoints.readLock(path) == os.getpid()
        assert talkUNIX(path) == b"echo:hi"
    finally:
        port.stopListening()
        endpoints.releaseLock(path)
    assert not os.path.exists(path + ".lock")


def test_wantpid_without_lock_replaces_dead_socket(tmp_path):
    """With wantPID and no lock file, a socket nobody answers on is removed."""
    path = str(tmp_path / "s.sock")
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(path)
    leftover.close()
    port = endpoints.listen("unix:%s:lockfile=1" % path, echoFactory())
    try:
        assert talkUNIX(path) == b"echo:hi"
    finally:
        port.stopListening()
        endpoints.releaseLock(path)


def test_wantpid_refuses_live_owner(tmp_path):
    """A lock naming a live process is refused, and neither socket nor lock is touched."""
    path = str(tmp_path / "s.sock")
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with open(path + ".lock", "w") as f:
            f.write("%d\n" % owner.pid)
        with pytest.raises(CannotListenError) as info:
            endpoints.listen("unix:%s:wantPID=1" % path, echoFactory())
        assert str(owner.pid) in str(info.value)
        assert endpoints.readLock(path) == owner.pid
    finally:
        owner.kill()
        owner.wait()


def test_wantpid_refuses_to_delete_a_regular_file(tmp_path):
    """wantPID never deletes a file that is not a socket."""
    path = tmp_path / "notasocket"
    path.write_text("precious\n")
    with pytest.raises(endpoints.SocketInUse) as info:
        endpoints.listen("unix:%s:wantPID=1" % path, echoFactory())
    assert "not a socket" in str(info.value)
    assert path.read_text() == "precious\n"


def test_wantpid_refuses_a_live_unlocked_server(tmp_path):
    """A socket that still answers (a server without a lock) is not replaced."""
    path = str(tmp_path / "s.sock")
    first = endpoints.listen("unix:" + path, echoFactory())
    try:
        with pytest.raises(endpoints.SocketInUse):
            endpoints.listen("unix:%s:wantPID=1" % path, echoFactory())
        assert talkUNIX(path) == b"echo:hi"
    finally:
        first.stopListening()


def test_release_lock_leaves_other_owners_alone(tmp_path):
    """releaseLock removes the lock only when it names this process."""
    path = str(tmp_path / "s.sock")
    with open(path + ".lock", "w") as f:
        f.write("1\n")
    endpoints.releaseLock(path)
    assert os.path.exists(path + ".lock")


def test_process_alive():
    """processAlive: this process yes; a reaped child no; pid 0 no."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert endpoints.processAlive(os.getpid())
    assert not endpoints.processAlive(dead.pid)
    assert not endpoints.processAlive(0)


# -- TLS ---------------------------------------------------------------------

def test_listen_ssl_answers_over_tls(tmp_path):
    """ssl:0:privateKey=K:certKey=C serves TLS that a client trusting C accepts."""
    key, cert = makeCertificate(str(tmp_path))
    port = endpoints.listen("ssl:0:privateKey=%s:certKey=%s:interface=127.0.0.1"
                            % (key, cert), echoFactory())
    try:
        raw = socket.create_connection(("127.0.0.1", port.getHost().port), timeout=5)
        with clientContext(cert).wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(b"secret")
            assert s.recv(100) == b"echo:secret"
    finally:
        port.stopListening()


def test_ssl_context_one_file_holds_both(tmp_path):
    """With no certKey the privateKey file must hold the certificate too."""
    key, cert = makeCertificate(str(tmp_path))
    both = tmp_path / "server.pem"
    both.write_text(open(key).read() + open(cert).read())
    assert isinstance(endpoints.sslContext(str(both)), ssl.SSLContext)


def test_ssl_context_missing_files_is_clear(tmp_path):
    """A missing key or certificate raises TLSSetupError naming both files."""
    with pytest.raises(endpoints.TLSSetupError) as info:
        endpoints.sslContext(str(tmp_path / "nokey.pem"), str(tmp_path / "nocert.pem"))
    assert "nokey.pem" in str(info.value) and "nocert.pem" in str(info.value)


def test_listen_uses_given_reactor():
    """listen() uses the reactor it is given (for tests and other reactors)."""
    calls = []

    class Recorder:
        def listenTCP(self, port, factory, backlog, interface):
            calls.append((port, backlog, interface))
            return "port"

    assert endpoints.listen("tcp:81:backlog=3", echoFactory(), Recorder()) == "port"
    assert calls == [(81, 3, "")]
    assert reactor is not None
