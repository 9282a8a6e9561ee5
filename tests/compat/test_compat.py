"""Real frameworks under ``refweb web --wsgi``: Flask, Django, bottle, httpbin.

Each application in tests/compat/apps/ is served by ``python -m refweb -n web
--wsgi ...`` as a real subprocess, run by the Python named in
$REFWEB_COMPAT_PYTHON (or, without it, the Python running the tests), and
talked to through real sockets: http.client, a raw socket for chunked
uploads, and curl where it is installed.  A framework that Python cannot
import is skipped, with the reason.

The frameworks are never refweb's dependencies: .ci/run installs them into a
virtual environment of their own and points REFWEB_COMPAT_PYTHON at it.
"""

import base64
import contextlib
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.join(HERE, "apps")
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = os.environ.get("REFWEB_COMPAT_PYTHON") or sys.executable
DEADLINE = 60.0  # seconds a server may take to start (Django migrates a database first)
BODY = bytes(range(256)) * 781 + bytes(range(64))  # 200,000 bytes, every byte value
BODY_SHA = hashlib.sha256(BODY).hexdigest()
assert len(BODY) == 200000


def importable(module):
    """None if PYTHON can import ``module``, else why not (one line)."""
    done = subprocess.run([PYTHON, "-c", "import " + module], capture_output=True,
                          text=True, timeout=60)
    if done.returncode == 0:
        return None
    last = (done.stderr.strip().splitlines() or ["exit %d" % done.returncode])[-1]
    return "%s cannot import %s (%s); set REFWEB_COMPAT_PYTHON to a Python that has " \
           "it (.ci/run makes one)" % (PYTHON, module, last)


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``PYTHON -m refweb -n web --wsgi TARGET`` on a free port, run from apps/."""

    def __init__(self, target, tmp, *options, env=None):
        self.port = freePort()
        self.outPath = os.path.join(str(tmp), "server-output.txt")
        environ = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        environ.update(PYTHONPATH=ROOT, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1",
                       **(env or {}))
        with open(self.outPath, "wb") as out:
            self.popen = subprocess.Popen(
                [PYTHON, "-m", "refweb", "-n", "--pidfile", "", "web", "--wsgi", target,
                 "--listen", "tcp:%d:interface=127.0.0.1" % self.port, *options],
                cwd=APPS, env=environ, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)
        self._waitReady()

    def output(self):
        with open(self.outPath, errors="replace") as f:
            return f.read()

    def _waitReady(self):
        deadline = time.monotonic() + DEADLINE
        while "refweb: listening on" not in self.output():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("the server did not start:\n" + self.output())
            time.sleep(0.05)

    def stop(self):
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()

    # -- clients -----------------------------------------------------------

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body) over a fresh http.client connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def json(self, method, path, body=None, headers=None):
        status, _, data = self.request(method, path, body, headers)
        assert status == 200, (status, data[:500], self.output()[-2000:])
        return json.loads(data)

    def raw(self, data):
        """Send ``data`` on a raw socket (Connection: close); every byte of the answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(data)
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)

    def chunkedUpload(self, path, body, contentType="application/octet-stream", size=7000):
        """POST ``body`` chunked by hand, in ``size``-byte chunks: (status, body)."""
        pieces = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                  for i in range(0, len(body), size)]
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nTransfer-Encoding: chunked\r\n"
                "Content-Type: %s\r\nConnection: close\r\n\r\n"
                % (path, self.port, contentType)).encode()
        answer = self.raw(head + b"".join(pieces) + b"0\r\n\r\n")
        head, _, rest = answer.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        if b"transfer-encoding: chunked" in head.lower():
            rest = dechunk(rest)
        return status, rest

    def curlChunked(self, path, tmp, contentType="application/octet-stream"):
        """curl -H 'Transfer-Encoding: chunked' --data-binary @FILE (200,000 bytes)."""
        if shutil.which("curl") is None:
            pytest.skip("curl is not installed")
        upload = os.path.join(str(tmp), "upload-200KB")
        with open(upload, "wb") as f:
            f.write(BODY)
        done = subprocess.run(["curl", "-sS", "--max-time", "30", "-H",
                               "Transfer-Encoding: chunked", "-H", "Content-Type: " + contentType,
                               "--data-binary", "@" + upload,
                               "http://127.0.0.1:%d%s" % (self.port, path)],
                              capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def dechunk(data):
    parts, at = [], 0
    while True:
        end = data.index(b"\r\n", at)
        size = int(data[at:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(parts)
        parts.append(data[end + 2:end + 2 + size])
        at = end + 4 + size


def multipart(fields, files):
    """(body, content type) of a multipart/form-data form (RFC 7578)."""
    boundary = "refwebCompatBoundary7MA4YWxkTrZu0gW"
    lines = []
    for name, value in fields.items():
        lines += [b"--" + boundary.encode(),
                  b'Content-Disposition: form-data; name="%s"' % name.encode(), b"",
                  value.encode()]
    for name, (filename, data) in files.items():
        lines += [b"--" + boundary.encode(),
                  b'Content-Disposition: form-data; name="%s"; filename="%s"'
                  % (name.encode(), filename.encode()),
                  b"Content-Type: application/octet-stream", b"", data]
    lines += [b"--" + boundary.encode() + b"--", b""]
    return b"\r\n".join(lines), "multipart/form-data; boundary=" + boundary


def cookieOf(headers, name):
    """The value a Set-Cookie of ``headers`` gives ``name``."""
    for header in headers.get_all("Set-Cookie") or []:
        match = re.match(r"\s*%s=([^;]*)" % re.escape(name), header)
        if match:
            return match.group(1)
    raise AssertionError("no %s cookie in %r" % (name, headers.get_all("Set-Cookie")))


@contextlib.contextmanager
def serving(module, target, tmp, *options, env=None):
    why = importable(module)
    if why:
        pytest.skip(why)
    server = Server(target, tmp, *options, env=env)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def flask(tmp_path_factory):
    with serving("flask", "flask_app.app", tmp_path_factory.mktemp("flask"),
                 "--max-body-size", "2M") as server:
        yield server


@pytest.fixture(scope="module")
def bottle(tmp_path_factory):
    with serving("bottle", "bottle_app.app", tmp_path_factory.mktemp("bottle")) as server:
        yield server


@pytest.fixture(scope="module")
def django(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("django")
    with serving("django", "django_app.application", tmp,
                 env={"COMPAT_DJANGO_DB": str(tmp / "db.sqlite3")}) as server:
        yield server


@pytest.fixture(scope="module")
def httpbin(tmp_path_factory):
    with serving("httpbin", "httpbin.app", tmp_path_factory.mktemp("httpbin")) as server:
        yield server


# -- Flask ------------------------------------------------------------------

def test_flask_page_and_environ(flask):
    """Flask answers; its environ names refweb and says wsgi.input ends at the body's end."""
    assert flask.request("GET", "/")[::2] == (200, b"flask says hello")
    environ = flask.json("GET", "/environ")
    assert environ["SERVER_SOFTWARE"].startswith("refweb/")
    assert environ["wsgi.input_terminated"] is True


def test_flask_chunked_upload_arrives_whole(flask):
    """A chunked upload reaches request.get_data() whole (it was empty before)."""
    status, body = flask.chunkedUpload("/echo", BODY)
    assert status == 200
    result = json.loads(body)
    assert (result["length"], result["sha256"], result["contentLength"]) == (
        200000, BODY_SHA, 200000)


def test_flask_curl_chunked_upload(flask, tmp_path):
    """curl -H 'Transfer-Encoding: chunked' --data-binary @200KB delivers 200,000 bytes."""
    result = flask.curlChunked("/echo", tmp_path)
    assert (result["length"], result["sha256"]) == (200000, BODY_SHA)


def test_flask_form_and_multipart(flask):
    """An urlencoded form and a multipart upload are parsed by Werkzeug."""
    result = flask.json("POST", "/form", b"a=1&b=two+words&a=3",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert result == {"fields": {"a": ["1", "3"], "b": ["two words"]}}
    body, ctype = multipart({"note": "hi"}, {"file": ("data.bin", BODY)})
    result = flask.json("POST", "/upload", body, {"Content-Type": ctype})
    assert result == {"files": {"file": {"filename": "data.bin", "length": 200000}},
                      "fields": {"note": "hi"}}


def test_flask_streaming_and_its_head(flask):
    """A streamed response is chunked; its HEAD states no length (it said 0 before)."""
    raw = flask.raw(b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert dechunk(rest) == b"".join(b"line %d\n" % i for i in range(5))
    status, headers, body = flask.request("HEAD", "/stream")
    assert (status, body, headers["Content-Length"]) == (200, b"", None)


def test_flask_redirect_and_session(flask):
    """redirect() is a 302 with Location; a session cookie carries the login."""
    status, headers, _ = flask.request("GET", "/redirect")
    assert status == 302 and headers["Location"] == "/"
    status, headers, body = flask.request("POST", "/login", b"user=alice",
                                          {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, body) == (200, b"logged in")
    cookie = "session=" + cookieOf(headers, "session")
    assert flask.request("GET", "/whoami", headers={"Cookie": cookie})[2] == b"alice"
    assert flask.request("GET", "/whoami")[2] == b"nobody"


def test_flask_body_limit_from_the_command_line(flask):
    """--max-body-size 2M: a 2 MiB body reaches Flask, one byte more is a 413."""
    result = flask.json("POST", "/echo", b"x" * (2 * 1024 * 1024),
                        {"Content-Type": "application/octet-stream"})
    assert result["length"] == 2 * 1024 * 1024
    # Refused on its head alone: the client need not send the body.
    answer = flask.raw(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                       b"Content-Type: application/octet-stream\r\n\r\n"
                       % (2 * 1024 * 1024 + 1))
    assert answer.startswith(b"HTTP/1.1 413 ")


# -- bottle ------------------------------------------------------------------

def test_bottle_chunked_upload_arrives_whole(bottle, tmp_path):
    """bottle reads a chunked upload whole (it answered 400 before), by hand and by curl."""
    status, body = bottle.chunkedUpload("/echo", BODY)
    assert status == 200 and json.loads(body) == {"length": 200000, "sha256": BODY_SHA}
    assert bottle.curlChunked("/echo", tmp_path) == {"length": 200000, "sha256": BODY_SHA}


def test_bottle_forms_stream_redirect_cookie(bottle):
    """bottle's forms, uploads, generator bodies, redirects and cookies work."""
    assert bottle.request("GET", "/")[::2] == (200, b"bottle says hello")
    assert bottle.json("POST", "/form", b"name=b%C3%B6b",
                       {"Content-Type": "application/x-www-form-urlencoded"}) == {
        "fields": {"name": "b\u00f6b"}}
    body, ctype = multipart({}, {"file": ("up.bin", BODY[:5000])})
    assert bottle.json("POST", "/upload", body, {"Content-Type": ctype}) == {
        "filename": "up.bin", "length": 5000}
    assert bottle.request("GET", "/stream")[2] == b"".join(b"line %d\n" % i for i in range(5))
    status, headers, _ = bottle.request("GET", "/redirect")
    assert status in (302, 303) and headers["Location"] == "http://127.0.0.1:%d/" % bottle.port
    status, headers, body = bottle.request("GET", "/cookie")
    assert body == b"0"
    cookie = "visits=" + cookieOf(headers, "visits")
    assert bottle.request("GET", "/cookie", headers={"Cookie": cookie})[2] == b"1"


# -- Django --------------------------------------------------------------------

def test_django_uploads_and_stream(django, tmp_path):
    """Django reads chunked and multipart uploads whole and streams a generator."""
    assert django.request("GET", "/")[::2] == (200, b"django says hello")
    status, body = django.chunkedUpload("/echo", BODY)
    assert status == 200 and json.loads(body) == {"length": 200000, "sha256": BODY_SHA}
    assert django.curlChunked("/echo", tmp_path) == {"length": 200000, "sha256": BODY_SHA}
    body, ctype = multipart({"x": "1"}, {"doc": ("d.bin", BODY)})
    assert django.json("POST", "/upload", body, {"Content-Type": ctype}) == {
        "doc": {"name": "d.bin", "length": 200000}}
    assert django.request("GET", "/stream")[2] == b"".join(b"line %d\n" % i for i in range(5))


def test_django_admin_login(django):
    """The admin's login flow: CSRF cookie and token, POST, redirect, a session."""
    status, headers, page = django.request("GET", "/admin/login/?next=/admin/")
    assert status == 200
    csrf = cookieOf(headers, "csrftoken")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    form = "csrfmiddlewaretoken=%s&username=admin&password=compat-secret&next=/admin/" % token
    status, headers, _ = django.request(
        "POST", "/admin/login/?next=/admin/", form.encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "csrftoken=" + csrf,
         "Referer": "http://127.0.0.1:%d/admin/login/" % django.port})
    assert status == 302 and headers["Location"] == "/admin/"
    session = cookieOf(headers, "sessionid")
    status, _, page = django.request("GET", "/admin/",
                                     headers={"Cookie": "sessionid=" + session})
    assert status == 200 and b"Site administration" in page
    assert django.request("GET", "/admin/")[0] == 302  # no session: back to the login


# -- httpbin --------------------------------------------------------------------

def test_httpbin_post_chunked(httpbin, tmp_path):
    """httpbin /post gets every byte of a chunked upload (it answered 501 before)."""
    status, body = httpbin.chunkedUpload("/post", BODY)
    assert status == 200
    data = json.loads(body)["data"]
    assert base64.b64decode(data.split(",", 1)[1]) == BODY
    data = httpbin.curlChunked("/post", tmp_path)["data"]
    assert base64.b64decode(data.split(",", 1)[1]) == BODY


def test_httpbin_adds_no_content_type(httpbin):
    """/status/418 and the 401 of /basic-auth carry only httpbin's headers, plus
    Date and Server: refweb adds no Content-Type of its own."""
    for path, code in (("/status/418", 418), ("/basic-auth/u/p", 401)):
        status, headers, _ = httpbin.request("GET", path)
        assert status == code and headers["Content-Type"] is None, path


def test_httpbin_status_100_is_a_one_line_500(httpbin):
    """/status/100: a 1xx is no final status; refweb answers 500 and logs one line."""
    assert httpbin.request("GET", "/status/100")[0] == 500
    assert httpbin.request("GET", "/status/204")[::2] == (204, b"")
    output = httpbin.output()
    assert "'100 CONTINUE' is interim (1xx)" in output and "ValueError" not in output


@pytest.mark.parametrize("method, path, check", [
    ("GET", "/get?x=1", lambda s, h, b: json.loads(b)["args"] == {"x": "1"}),
    ("GET", "/headers", lambda s, h, b: json.loads(b)["headers"]["X-Compat"] == "yes"),
    ("PUT", "/anything/a", lambda s, h, b: json.loads(b)["data"] == "put body"),
    ("DELETE", "/delete", lambda s, h, b: s == 200),
    ("PATCH", "/patch", lambda s, h, b: json.loads(b)["data"] == "put body"),
    ("GET", "/redirect/2", lambda s, h, b: s == 302 and h["Location"] == "/relative-redirect/1"),
    ("GET", "/cookies/set?k=v", lambda s, h, b: s == 302 and cookieOf(h, "k") == "v"),
    ("GET", "/cookies", lambda s, h, b: json.loads(b) == {"cookies": {"c": "1"}}),
    ("GET", "/basic-auth/u/p", lambda s, h, b: json.loads(b)["authenticated"]),
    ("GET", "/bytes/1000", lambda s, h, b: len(b) == 1000),
    ("GET", "/stream/5", lambda s, h, b: len(b.splitlines()) == 5),
    ("GET", "/stream-bytes/3000", lambda s, h, b: len(b) == 3000),
    ("GET", "/gzip", lambda s, h, b: h["Content-Encoding"] == "gzip"),
    ("GET", "/response-headers?X-Made=here", lambda s, h, b: h["X-Made"] == "here"),
    ("GET", "/html", lambda s, h, b: b"Herman Melville" in b),
    ("GET", "/json", lambda s, h, b: "slideshow" in json.loads(b)),
    ("GET", "/xml", lambda s, h, b: h["Content-Type"] == "application/xml"),
    ("GET", "/robots.txt", lambda s, h, b: b"Disallow" in b),
    ("GET", "/user-agent", lambda s, h, b: json.loads(b)["user-agent"] == "compat-suite"),
    ("GET", "/base64/cmVmd2Vi", lambda s, h, b: b == b"refweb"),
    ("GET", "/status/418", lambda s, h, b: s == 418 and b"teapot" in b),
    ("GET", "/etag/abc", lambda s, h, b: h["ETag"] == "abc"),
    ("GET", "/range/100", lambda s, h, b: len(b) == 100),
    ("GET", "/drip?numbytes=5&duration=0&delay=0", lambda s, h, b: b == b"*****"),
])
def test_httpbin_endpoints(httpbin, method, path, check):
    """A sample of httpbin's endpoints answers as httpbin documents them."""
    headers = {"X-Compat": "yes", "User-Agent": "compat-suite", "Cookie": "c=1",
               "Authorization": "Basic " + base64.b64encode(b"u:p").decode()}
    body = b"put body" if method in ("PUT", "PATCH") else None
    if body is not None:
        headers["Content-Type"] = "text/plain"
    status, responseHeaders, data = httpbin.request(method, path, body, headers)
    assert check(status, responseHeaders, data), (status, dict(responseHeaders), data[:300])


def test_httpbin_head_of_a_stream(httpbin):
    """HEAD /stream/3: no Content-Length: 0 for a body whose GET is streamed."""
    status, headers, body = httpbin.request("HEAD", "/stream/3")
    assert status == 200 and body == b"" and headers["Content-Length"] != "0"
