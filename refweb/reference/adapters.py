# -*- test-case-name: tests.test_reference -*-
"""Adapters: how to start a reference site on one implementation, as a subprocess on a free port.

An implementation is whatever can serve the example sites; an adapter knows
how to start one.  Three are provided:

``refweb``
    runs ``refweb/reference/launch.py`` with this Python and refweb on the
    path; the web-command sites run ``python -m refweb -n web ...``.
``twisted``
    runs the same launcher with a Python that has Twisted (``--twisted-python``
    or ``REFWEB_TWISTED_PYTHON``); the site files, and the ``.rpy`` and
    ``.py`` files of the fixture folder, go through ``launch.RENAMES``; the
    web-command sites run ``twistd -n web ...``.
``command``
    a learner's own server: a shell command with ``{port}``, ``{root}`` and
    ``{site}`` placeholders.  It must serve the fixture folder copied to
    ``{root}`` and only three sites: ``hello`` (the guide's Hello tree),
    ``files`` (the fixture folder, as ``static.File`` does) and ``echo``
    (resources that answer with what arrived: a request body, a header).
    Behaviours on any other site need Python resources and are skipped.

With ``--http2`` a site's requests go over HTTP/2 (``SiteServer.http2``):
on the same cleartext port with prior knowledge (``h2c``: refweb, a
command), or on a TLS port where ALPN chooses ``h2`` (``tls``: Twisted,
which speaks HTTP/2 only that way; ``PythonAdapter.useTLS`` makes a
throwaway certificate with the ``openssl`` command).

Every site gets its own copy of the fixture folder (so a behaviour that
edits a file there touches no other site) and its own process, stopped
when the site's behaviours are done.

Part of refweb.reference: cli -> suite -> adapters -> launch / the server.
"""

import atexit
import contextlib
import json
import os
import select
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from refweb.reference import client, h2client, launch

HERE = os.path.dirname(os.path.abspath(__file__))
SITES = os.path.join(HERE, "sites")
FIXTURE = os.path.join(HERE, "fixture")
START_TIMEOUT = 30.0

#: The sites a learner's server is asked to serve (see docs/guide/write-your-own-server.rst).
COMMAND_SITES = ("hello", "files", "echo")

#: Why a command skips the other sites (one reason for all, so the report folds them).
PYTHON_ONLY = "needs Python resources: a command serves only the sites hello, files and echo"

#: How each implementation is reached over HTTP/2 when ``--http2`` names no way.
HTTP2_DEFAULT = {"refweb": "h2c", "twisted": "tls", "command": "h2c"}


class NotOverHTTP2(Exception):
    """A behaviour sent HTTP/1.1 bytes itself while the suite runs over HTTP/2."""


#: Sites that are a command line rather than a site file.
WEB_COMMAND_SITES = ("web-path", "web-wsgi")


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copyFixture(translateNames):
    """A fresh copy of the fixture folder; CGI scripts made executable again.

    With ``translateNames``, the fixture's Python (``.rpy``, ``.py``) goes
    through ``launch.translate`` so that it imports Twisted's names.
    """
    top = tempfile.mkdtemp(prefix="refweb-reference-")
    root = os.path.join(top, "root")
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__"))
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if name.endswith((".cgi", ".pl")):
                os.chmod(path, 0o755)
            if translateNames and name.endswith((".rpy", ".py")):
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                with open(path, "w", encoding="utf-8") as f:
                    f.write(launch.translate(text))
    return top, root


class SiteServer:
    """A started site: where it listens, its fixture root, and helpers to talk to it."""

    host = "127.0.0.1"

    def __init__(self, impl, site, port, root, process, top, info=None):
        self.impl = impl
        self.site = site
        self.port = port
        self.root = root
        self.info = info or {}
        self.process = process
        self.top = top
        self.connections = []  # made by the behaviour now running (suite.runOne empties it)
        self.http2 = None      # None (HTTP/1.1), "h2c" or "tls": how request() talks

    @property
    def protocol(self):
        """The protocol requests go over, as CGI and WSGI name it: HTTP/1.1 or HTTP/2."""
        return "HTTP/2" if self.http2 else "HTTP/1.1"

    @property
    def scheme(self):
        """The scheme the site is reached with: https over TLS, else http."""
        return "https" if self.http2 == "tls" else "http"

    def connect(self):
        if self.http2:
            raise NotOverHTTP2("this behaviour writes HTTP/1.1 bytes itself: list it in "
                               "refweb/reference/protocols.py HTTP11_ONLY")
        connection = client.Connection(self.host, self.port)
        self.connections.append(connection)
        return connection

    def exchange(self, data, method="GET"):
        """Send ``data`` on a new connection and return the final response to it."""
        with self.connect() as conn:
            conn.send(data)
            return conn.readFinal(method)

    def request(self, method, path, headers=None, body=b"", version="HTTP/1.1",
                host="example.com"):
        """One request on a new connection (``Connection: close``), its final response."""
        if self.http2:
            return self.requestOverHTTP2(method, path, headers, body, version, host)
        headers = list(headers or [])
        if not any(name.lower() == "connection" for name, _ in headers):
            headers.append(("Connection", "close"))
        return self.exchange(client.request(method, path, headers, body, version, host), method)

    def requestOverHTTP2(self, method, path, headers, body, version, host):
        """The same request as one stream on a new HTTP/2 connection (``Host`` becomes
        ``:authority``, RFC 9113 §8.3.1)."""
        if version != "HTTP/1.1":
            raise NotOverHTTP2("this behaviour asks for %s: list it in "
                               "refweb/reference/protocols.py HTTP11_ONLY" % version)
        authority = next((value for name, value in headers or () if name.lower() == "host"),
                         host)
        connection = h2client.H2ClientConnection(self.host, self.port, self.http2 == "tls")
        self.connections.append(connection)
        with connection:
            return connection.request(method, path, headers or (), body, authority)

    def get(self, path, headers=None, **kw):
        return self.request("GET", path, headers, **kw)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()
        shutil.rmtree(self.top, ignore_errors=True)


def _lastLines(path, count=3):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-count:])
    except OSError:
        return ""


def _waitForAnnouncement(process, errPath):
    """Read the launcher's ``REFWEB-REFERENCE {json}`` line; raise if it never comes."""
    deadline = time.monotonic() + START_TIMEOUT
    line = b""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("exited with %s: %s" % (process.returncode, _lastLines(errPath)))
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if not ready:
            continue
        line = process.stdout.readline()
        if line.startswith(b"REFWEB-REFERENCE "):
            return json.loads(line.split(b" ", 1)[1])
    raise RuntimeError("no port announced within %d s: %s" % (START_TIMEOUT, _lastLines(errPath)))


def _waitForListening(process, port, errPath):
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError("exited with %s: %s" % (process.returncode, _lastLines(errPath)))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("not listening on %d within %d s: %s"
                                   % (port, START_TIMEOUT, _lastLines(errPath)))
            time.sleep(0.05)


@contextlib.contextmanager
def _stoppedIfStartFails(server):
    """Stop ``server`` if the waiting for it to come up fails; the error goes on."""
    try:
        yield server
    except Exception:
        server.stop()
        raise


class PythonAdapter:
    """Start sites with a Python: refweb's own, or one with Twisted (``impl='twisted'``)."""

    def __init__(self, name, python=None):
        self.name = name
        self.python = python or sys.executable
        self.tls = None  # (key, cert) PEM paths once useTLS() has made them

    def useTLS(self):
        """Serve every site over TLS, with a throwaway self-signed certificate."""
        folder = tempfile.mkdtemp(prefix="refweb-reference-tls-")
        atexit.register(shutil.rmtree, folder, True)
        key, cert = os.path.join(folder, "key.pem"), os.path.join(folder, "cert.pem")
        try:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                           check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            raise SystemExit("HTTP/2 over TLS needs a throwaway certificate, made with the "
                             "openssl command: %s" % e)
        self.tls = (key, cert)

    def unsupported(self, site):
        return None

    def _environment(self, extraPath=()):
        env = dict(os.environ)
        parts = list(extraPath)
        if self.name == "refweb":
            parts.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the folder holding refweb/
        if env.get("PYTHONPATH") and self.name == "refweb":
            parts.append(env["PYTHONPATH"])
        if parts:
            env["PYTHONPATH"] = os.pathsep.join(parts)
        else:
            env.pop("PYTHONPATH", None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if self.tls:
            env["REFWEB_REFERENCE_TLS"] = "%s:%s" % self.tls
        return env

    def webCommand(self, site, root, port):
        """The argv of the web command for ``site``: ``refweb -n web`` or ``twistd -n web``."""
        listen = "tcp:%d:interface=127.0.0.1" % port
        if self.tls:
            listen = "ssl:%d:interface=127.0.0.1:privateKey=%s:certKey=%s" % ((port,) + self.tls)
        options = (["--path", root] if site == "web-path"
                   else ["--wsgi", "wsgiapp.application"])
        if self.name == "twisted":
            start = [self.python, "-c",
                     "import sys; sys.argv[0] = 'twistd'; "
                     "from twisted.scripts.twistd import run; run()", "-n", "--pidfile="]
        else:
            start = [self.python, "-m", "refweb", "-n"]
        return start + ["web", "--listen", listen] + options

    def start(self, site):
        top, root = copyFixture(self.name == "twisted")
        errPath = os.path.join(top, "stderr.log")
        err = open(errPath, "wb")
        try:
            if site in WEB_COMMAND_SITES:
                port = freePort()
                process = subprocess.Popen(
                    self.webCommand(site, root, port), cwd=top, stdin=subprocess.DEVNULL,
                    stdout=err, stderr=err, env=self._environment([root]))
                server = SiteServer(self.name, site, port, root, process, top)
                with _stoppedIfStartFails(server):
                    _waitForListening(process, port, errPath)
                return server
            launcher = os.path.join(HERE, "launch.py")
            if self.name == "twisted":  # a copy, so that no refweb is on Twisted's path
                launcher = shutil.copy(launcher, os.path.join(top, "launch.py"))
                command = [self.python, launcher]
            else:
                command = [self.python, "-m", "refweb.reference.launch"]
            process = subprocess.Popen(
                command + [self.name, os.path.join(SITES, site + ".py"), root],
                cwd=top, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                env=self._environment())
            server = SiteServer(self.name, site, None, root, process, top)
            with _stoppedIfStartFails(server):
                announced = _waitForAnnouncement(process, errPath)
            server.port, server.info = announced["port"], announced["info"]
            return server
        finally:
            err.close()


class CommandAdapter:
    """A learner's server: ``command`` with ``{port}``, ``{root}`` and ``{site}`` filled in."""

    name = "command"

    def __init__(self, command):
        self.command = command

    def unsupported(self, site):
        return None if site in COMMAND_SITES else PYTHON_ONLY

    def start(self, site):
        top, root = copyFixture(False)
        port = freePort()
        errPath = os.path.join(top, "stderr.log")
        line = self.command.format(port=port, root=shlex.quote(root), site=site)
        env = dict(os.environ, REFWEB_REFERENCE_SITE=site)
        with open(errPath, "wb") as err:
            process = subprocess.Popen(line, shell=True, stdin=subprocess.DEVNULL,
                                       stdout=err, stderr=err, env=env, start_new_session=True)
        server = SiteServer(self.name, site, port, root, process, top)
        server.stop = lambda: _stopGroup(server)
        with _stoppedIfStartFails(server):
            _waitForListening(process, port, errPath)
        return server


def _stopGroup(server):
    """Stop a shell command and whatever it started (it runs in its own session)."""
    import signal
    if server.process.poll() is None:
        try:
            os.killpg(server.process.pid, signal.SIGTERM)
            server.process.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(server.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.process.wait()
    shutil.rmtree(server.top, ignore_errors=True)


def makeAdapter(name, twistedPython=None, command=None):
    """The adapter called ``name`` (refweb, twisted or command)."""
    if name == "refweb":
        return PythonAdapter("refweb")
    if name == "twisted":
        python = twistedPython or os.environ.get("REFWEB_TWISTED_PYTHON")
        if not python:
            raise SystemExit("--impl twisted needs a Python with Twisted: --twisted-python PATH "
                             "or REFWEB_TWISTED_PYTHON (python3 -m venv ~/twisted-venv && "
                             "~/twisted-venv/bin/pip install twisted)")
        try:
            found = subprocess.run([python, "-c", "import twisted; print(twisted.__version__)"],
                                   capture_output=True, text=True, timeout=60)
        except OSError as e:
            raise SystemExit("cannot run %s: %s" % (python, e))
        if found.returncode != 0:
            raise SystemExit("%s cannot import twisted (pip install twisted into it)" % python)
        return PythonAdapter("twisted", python)
    if name == "command":
        if not command:
            raise SystemExit("--impl command needs --command 'python3 myserver.py {port} {root}'")
        return CommandAdapter(command)
    raise SystemExit("unknown implementation %r (refweb, twisted or command)" % name)
