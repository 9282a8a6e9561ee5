"""Tests for refweb.twcgi: CGIDirectory, CGIScript and FilteredScript.

Behaviour tests serve a real Site on a free port; the scripts are real
/bin/sh and /usr/bin/perl programs written into a temporary cgi-bin.
"""

import hashlib
import http.client
import os
import shutil
import socket
import time

import pytest

from refweb import resource, server, static, twcgi, vhost
from support import fetch, rawHTTP, served, statusOf, waitUntil

PERL = "/usr/bin/perl"
needsPerl = pytest.mark.skipif(not os.access(PERL, os.X_OK), reason="needs /usr/bin/perl")


# -- helpers -----------------------------------------------------------------------------

def rawStatus(port, target):
    """The status of a GET sent with exactly ``target`` (no client-side tidying)."""
    data = rawHTTP(port, b"GET " + target + b" HTTP/1.0\r\nHost: x\r\n\r\n", timeout=10)
    return statusOf(data)


def header(headers, name):
    """Every value of the response field ``name``, in order."""
    return headers.get_all(name) or []


def envOf(body):
    """The NAME=value lines of an `env` dump as a dict."""
    return dict(line.split("=", 1) for line in body.decode().splitlines() if "=" in line)


def write(path, text, mode=0o755):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def childrenOfUs():
    """(pid, state) of every process whose parent is this test process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == os.getpid():
            found.append((int(entry), fields[0]))
    return found


def noZombies():
    """True when no child of this process is a zombie (every script was reaped)."""
    return all(state != "Z" for _, state in childrenOfUs())


def alive(pid):
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


class QuickScript(twcgi.CGIScript):
    timeout = 1.0


SH_HEAD = "#!/bin/sh\n"
SCRIPTS = {
    "env.sh": SH_HEAD + "printf 'Content-Type: text/plain\\n\\n'\nenv\n",
    "hello.sh": SH_HEAD + "printf 'Content-Type: text/plain\\r\\nX-CGI: yes\\r\\n\\r\\n'\n"
                          "printf 'hello %s\\n' \"$QUERY_STRING\"\n",
    "sum.sh": SH_HEAD + "printf 'Content-Type: text/plain\\n\\n'\n"
                        "echo \"$CONTENT_LENGTH $CONTENT_TYPE\"\nsha256sum | cut -d' ' -f1\n",
    "echo.sh": SH_HEAD + "printf 'Content-Type: application/octet-stream\\n\\n'\nexec cat\n",
    "notfound.sh": SH_HEAD + "printf 'Status: 404 Not Found\\nContent-Type: text/plain\\n\\n'\n"
                             "echo gone\n",
    "moved.sh": SH_HEAD + "printf 'Location: http://example.com/new\\n\\n'\n",
    "moved301.sh": SH_HEAD + "printf 'Status: 301 Moved\\nLocation: /elsewhere\\n\\n'\n",
    "cookies.sh": SH_HEAD + "printf 'Set-Cookie: a=1\\nSet-Cookie: b=2\\nContent-Length: 02\\n"
                            "Connection: close\\nContent-Type: text/plain\\n\\nok'\n",
    "badlength.sh": SH_HEAD + "printf 'Content-Length: 3x\\n\\nSCRIPTBODY'\n",
    "twolengths.sh": SH_HEAD + "printf 'Content-Length: 10\\nContent-Length: 10\\n\\nSCRIPTBODY'\n",
    "toolong.sh": SH_HEAD + "printf 'Content-Length: 3\\n\\nabcdef'\n",
    "lengthonly.sh": SH_HEAD + "printf 'Content-Length: 1000\\n\\n'\n",
    "crash.sh": SH_HEAD + "echo 'dying' >&2\nexit 3\n",
    "noblank.sh": SH_HEAD + "printf 'Content-Type: text/plain\\n'\n",
    "garbage.sh": SH_HEAD + "printf 'this is not a header\\n\\nbody'\n",
    "folded.sh": SH_HEAD + "printf 'X-A: 1\\n continued\\n\\nbody'\n",
    "badstatus.sh": SH_HEAD + "printf 'Status: 99 Odd\\n\\nbody'\n",
    "empty.sh": SH_HEAD + "printf '\\nbody'\n",
    "huge.sh": SH_HEAD + "printf 'X-Big: '\nhead -c 70000 /dev/zero | tr '\\0' a\n"
                         "printf '\\n\\nbody'\n",
    "hang.sh": SH_HEAD + "sleep 60 &\necho $! > ../sleeper.pid\nwait\n",
    "slowbody.sh": SH_HEAD + "printf 'Content-Type: text/plain\\n\\npart one\\n'\nexec sleep 60\n",
    "stderr.sh": SH_HEAD + "echo 'a complaint for the log' >&2\n"
                           "printf 'Content-Type: text/plain\\n\\nfine'\n",
    "endless.sh": SH_HEAD + "echo $$ > ../endless.pid\nprintf 'Content-Type: text/plain\\n\\n'\n"
                            "exec yes 'all work and no play'\n",
    "linger.sh": SH_HEAD + "echo $$ > ../linger.pid\nprintf 'Content-Type: text/plain\\n\\ndone'\n"
                           "exec >&- 2>&-\nsleep 60\n",
    "pwd.sh": SH_HEAD + "printf 'Content-Type: text/plain\\n\\n'\npwd\n",
    "sub/inner.sh": SH_HEAD + "printf 'Content-Type: text/plain\\n\\ninner'\n",
}


@pytest.fixture
def cgiBin(tmp_path):
    """A cgi-bin full of scripts, a script outside it, and hostile names."""
    folder = tmp_path / "cgi-bin"
    for name, text in SCRIPTS.items():
        write(folder / name, text)
    write(folder / "notexec.sh", SCRIPTS["hello.sh"], mode=0o644)
    write(folder / ".hidden.sh", SCRIPTS["hello.sh"])
    marker = tmp_path / "ran-outside"
    write(tmp_path / "outside.sh", SH_HEAD + "touch '%s'\nprintf 'X: y\\n\\nescaped'\n" % marker)
    os.symlink(str(tmp_path / "outside.sh"), str(folder / "link.sh"))
    return folder


@pytest.fixture
def cgiPort(cgiBin):
    root = resource.Resource()
    root.putChild("cgi-bin", twcgi.CGIDirectory(str(cgiBin)))
    quick = twcgi.CGIDirectory(str(cgiBin))
    quick.cgiScript = QuickScript
    root.putChild("quick", quick)
    with served(root) as port:
        yield port


# -- unit: the header block ------------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    (b"A: 1\r\n\r\nbody", (b"A: 1\r\n", b"body")),
    (b"A: 1\n\nbody\n\nmore", (b"A: 1\n", b"body\n\nmore")),
    (b"A: 1\r\nB: 2\n\r\n", (b"A: 1\r\nB: 2\n", b"")),
    (b"\nbody", (b"", b"body")),
    (b"A: 1\r\nB: 2", None),
    (b"A: 1\n", None),
])
def test_splitHeaderBlock_table(data, expected):
    """The header block ends at the first empty line, with CRLF or LF line ends."""
    assert twcgi.splitHeaderBlock(data) == expected


@pytest.mark.parametrize("block", [b"", b"\r\n", b"no colon\n", b"Bad Name: x\n",
                                   b"A: 1\n folded\n", b"A: x\x00y\n"])
def test_parseHeaderBlock_rejects(block):
    """An empty block, a line without a colon, a bad name, folding or a control byte are errors."""
    with pytest.raises(twcgi.CGIError):
        twcgi.parseHeaderBlock(block)


def test_parseHeaderBlock_keeps_order_and_trims():
    """Fields come back in order, values trimmed of spaces and tabs."""
    assert twcgi.parseHeaderBlock(b"A:1\r\nB: \t two words \n") == [("A", "1"), ("B", "two words")]


@pytest.mark.parametrize("value, expected", [("404 Not Found", (404, "Not Found")),
                                             ("200", (200, None)), ("599 x", (599, "x"))])
def test_parseStatus_good(value, expected):
    """Status is a 3-digit code and an optional reason phrase."""
    assert twcgi.parseStatus(value) == expected


@pytest.mark.parametrize("value", ["99 x", "1000", "abc", "", "600 x", "100 Continue"])
def test_parseStatus_bad(value):
    """Anything but a final status code 200..599 is a CGIError."""
    with pytest.raises(twcgi.CGIError):
        twcgi.parseStatus(value)


# -- running scripts ----------------------------------------------------------------------------

def test_sh_script_runs_with_query(cgiPort):
    """An executable sh script in the cgi-bin answers with its headers and body."""
    status, _, headers, body = fetch(cgiPort, "/cgi-bin/hello.sh?name=world")
    assert (status, body) == (200, b"hello name=world\n")
    assert header(headers, "x-cgi") == ["yes"]
    assert header(headers, "content-type") == ["text/plain"]


def test_environment_follows_rfc3875(cgiPort, monkeypatch):
    """The script sees the RFC 3875 variables, PATH_INFO after its name, and no server secrets."""
    monkeypatch.setenv("REFWEB_TEST_SECRET", "do-not-leak")
    status, _, _, body = fetch(cgiPort, "/cgi-bin/env.sh/extra/p%20ath?a=1&b=%20",
                               headers={"X-Custom": "yes", "Cookie": "c=1"})
    env = envOf(body)
    assert status == 200
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["SERVER_SOFTWARE"] == server.version
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("127.0.0.1", str(cgiPort))
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REQUEST_METHOD"] == "GET"
    assert env["SCRIPT_NAME"] == "/cgi-bin/env.sh"
    assert env["SCRIPT_FILENAME"].endswith("/cgi-bin/env.sh")
    assert env["PATH_INFO"] == "/extra/p ath"
    assert env["QUERY_STRING"] == "a=1&b=%20"
    assert env["REQUEST_URI"] == "/cgi-bin/env.sh/extra/p%20ath?a=1&b=%20"
    assert env["REMOTE_ADDR"] == "127.0.0.1" and env["REMOTE_HOST"] == "127.0.0.1"
    assert env["REMOTE_PORT"].isdigit()
    assert env["HTTP_X_CUSTOM"] == "yes"
    assert env["HTTP_COOKIE"] == "c=1"
    assert env["HTTP_HOST"] == "127.0.0.1:%d" % cgiPort
    assert "CONTENT_LENGTH" not in env and "HTTPS" not in env
    assert "REFWEB_TEST_SECRET" not in env
    assert env["PATH"] == os.environ["PATH"]


def test_no_path_info_without_extra_segments(cgiPort):
    """With nothing after the script's name, PATH_INFO is empty."""
    env = envOf(fetch(cgiPort, "/cgi-bin/env.sh")[3])
    assert (env["PATH_INFO"], env["QUERY_STRING"]) == ("", "")


def test_httpoxy_and_credentials_are_not_passed(cgiPort):
    """Proxy never becomes HTTP_PROXY (httpoxy), nor Authorization HTTP_AUTHORIZATION; '_' names are dropped."""
    _, _, _, body = fetch(cgiPort, "/cgi-bin/env.sh", headers={
        "Proxy": "http://evil.example:666", "Authorization": "Basic c2VjcmV0",
        "Proxy-Authorization": "Basic eA==", "X_Spoofed": "1"})
    env = envOf(body)
    assert "HTTP_PROXY" not in env
    assert "HTTP_AUTHORIZATION" not in env
    assert "HTTP_PROXY_AUTHORIZATION" not in env
    assert "HTTP_X_SPOOFED" not in env


def test_post_10MiB_reaches_the_script_byte_exact(cgiPort):
    """A 10 MiB body arrives on stdin intact, with CONTENT_LENGTH and CONTENT_TYPE."""
    data = os.urandom(10 * 1024 * 1024)
    status, _, _, body = fetch(cgiPort, "/cgi-bin/sum.sh", method="POST", body=data,
                               headers={"Content-Type": "application/octet-stream"}, timeout=60)
    assert status == 200
    assert body.decode().split() == [str(len(data)), "application/octet-stream",
                                     hashlib.sha256(data).hexdigest()]


def test_big_body_echoed_back_does_not_deadlock(cgiPort):
    """A script that writes while it reads (cat) streams 10 MiB back without deadlock."""
    data = os.urandom(10 * 1024 * 1024)
    status, _, _, body = fetch(cgiPort, "/cgi-bin/echo.sh", method="POST", body=data, timeout=60)
    assert status == 200
    assert body == data


def test_status_header_sets_code_and_reason(cgiPort):
    """'Status: 404 Not Found' gives that status line and the script's body."""
    status, reason, _, body = fetch(cgiPort, "/cgi-bin/notfound.sh")
    assert (status, reason, body) == (404, "Not Found", b"gone\n")


def test_location_without_status_is_302(cgiPort):
    """A Location without Status is a 302 to that place (RFC 3875 §6.2.3)."""
    status, _, headers, _ = fetch(cgiPort, "/cgi-bin/moved.sh")
    assert (status, header(headers, "location")) == (302, ["http://example.com/new"])


def test_location_with_status_keeps_status(cgiPort):
    """A Status next to Location wins."""
    status, reason, headers, _ = fetch(cgiPort, "/cgi-bin/moved301.sh")
    assert (status, reason, header(headers, "location")) == (301, "Moved", ["/elsewhere"])


def test_repeated_fields_kept_hop_by_hop_dropped(cgiPort):
    """Repeated fields all reach the client; Connection from the script does not,
    and its Content-Length goes on as a plain number."""
    status, _, headers, body = fetch(cgiPort, "/cgi-bin/cookies.sh")
    assert (status, body) == (200, b"ok")
    assert header(headers, "set-cookie") == ["a=1", "b=2"]
    assert header(headers, "content-length") == ["2"]
    assert header(headers, "connection") != ["close"]


def test_body_past_its_content_length_is_cut_off(cgiPort, logged):
    """A script that writes more than its Content-Length: the client gets the
    promised bytes and no more, the connection closes, and the log says so."""
    data = rawHTTP(cgiPort, b"GET /cgi-bin/toolong.sh HTTP/1.1\r\nHost: x\r\n\r\n", timeout=10)
    assert data.endswith(b"\r\n\r\nabc") and b"Content-Length: 3\r\n" in data
    assert any("toolong.sh: wrote past its Content-Length of 3" in line for line in logged)


def test_head_answer_may_promise_a_body_it_does_not_send(cgiPort, logged):
    """Under HEAD the script's Content-Length is the GET's: no body is no fault."""
    with socket.create_connection(("127.0.0.1", cgiPort), timeout=10) as sock:
        for _ in range(2):  # the connection stays open for a second request
            sock.sendall(b"HEAD /cgi-bin/lengthonly.sh HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while not data.endswith(b"\r\n\r\n"):
                data += sock.recv(65536)
            assert statusOf(data) == 200 and b"Content-Length: 1000\r\n" in data
    assert not any("cut" in line for line in logged)


def test_head_request_has_no_body(cgiPort):
    """HEAD runs the script with REQUEST_METHOD=HEAD and sends no body."""
    status, _, headers, body = fetch(cgiPort, "/cgi-bin/hello.sh", method="HEAD")
    assert (status, body) == (200, b"")
    assert header(headers, "x-cgi") == ["yes"]


def test_script_runs_in_its_own_folder(cgiPort, cgiBin):
    """The script's working directory is its own folder."""
    assert fetch(cgiPort, "/cgi-bin/pwd.sh")[3].decode().strip() == os.path.realpath(cgiBin)


def test_subfolder_scripts_run(cgiPort, cgiBin):
    """A subfolder of the cgi-bin is a CGIDirectory too, running scripts with the same class."""
    assert fetch(cgiPort, "/cgi-bin/sub/inner.sh")[::3] == (200, b"inner")
    assert fetch(cgiPort, "/cgi-bin/sub/")[0] == 403
    quick = twcgi.CGIDirectory(str(cgiBin))
    quick.cgiScript = QuickScript
    assert type(quick.getChild("sub", None).getChild("inner.sh", None)) is QuickScript


@pytest.mark.parametrize("name", ["crash.sh", "noblank.sh", "garbage.sh", "folded.sh",
                                  "badstatus.sh", "empty.sh", "huge.sh", "badlength.sh",
                                  "twolengths.sh"])
def test_broken_scripts_give_500(cgiPort, name):
    """A script that dies before its headers end, or writes bad headers, is a 500 page."""
    status, _, _, body = fetch(cgiPort, "/cgi-bin/" + name)
    assert status == 500
    assert b"SCRIPTBODY" not in body and b"Traceback" not in body


def test_stderr_goes_to_the_log(cgiPort, logged):
    """What a script writes on stderr is logged, line by line."""
    assert fetch(cgiPort, "/cgi-bin/stderr.sh")[::3] == (200, b"fine")
    assert fetch(cgiPort, "/cgi-bin/crash.sh")[0] == 500
    assert any("stderr.sh stderr: a complaint for the log" in line for line in logged)
    assert any("crash.sh stderr: dying" in line for line in logged)


def test_hanging_script_is_504_killed_and_reaped(cgiPort, cgiBin):
    """A silent script is killed after `timeout` with its children: 504, and no zombie left."""
    started = time.monotonic()
    status, _, _, body = fetch(cgiPort, "/quick/hang.sh")
    assert status == 504
    assert time.monotonic() - started < 10
    sleeper = int((cgiBin.parent / "sleeper.pid").read_text())
    assert waitUntil(lambda: not alive(sleeper)), "the script's own child survived"
    assert waitUntil(noZombies, timeout=2), childrenOfUs()


def test_script_lingering_after_its_answer_is_killed(cgiPort, cgiBin):
    """A script that closes stdout but keeps running gets `timeout` seconds more, then is killed."""
    assert fetch(cgiPort, "/quick/linger.sh")[::3] == (200, b"done")
    pid = int((cgiBin.parent / "linger.pid").read_text())
    assert waitUntil(lambda: not alive(pid))
    assert waitUntil(noZombies, timeout=2), childrenOfUs()


def test_silence_mid_body_cuts_the_connection(cgiPort):
    """After the headers went out, a silent script ends in a cut connection, not a short 200."""
    conn = http.client.HTTPConnection("127.0.0.1", cgiPort, timeout=20)
    try:
        conn.request("GET", "/quick/slowbody.sh")
        resp = conn.getresponse()
        assert resp.status == 200
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
        assert info.value.partial == b"part one\n"
    finally:
        conn.close()
    assert waitUntil(noZombies, timeout=2), childrenOfUs()


def test_client_leaving_kills_the_script(cgiPort, cgiBin):
    """When the client hangs up on an endless script, the script is killed."""
    sock = socket.create_connection(("127.0.0.1", cgiPort), timeout=10)
    sock.sendall(b"GET /cgi-bin/endless.sh HTTP/1.1\r\nHost: x\r\n\r\n")
    seen = b""
    while b"all work" not in seen:
        seen += sock.recv(65536)
    pidfile = cgiBin.parent / "endless.pid"
    assert waitUntil(pidfile.exists)
    pid = int(pidfile.read_text())
    sock.close()
    assert waitUntil(lambda: not alive(pid), timeout=15), "the endless script is still running"


def test_nul_in_path_info_is_400(cgiPort):
    """A NUL byte cannot go into the script's environment: 400, nothing runs."""
    assert rawStatus(cgiPort, b"/cgi-bin/env.sh/a%00b") == 400


def test_vhost_monster_https_reaches_the_environment(cgiBin):
    """Behind VHostMonster the script sees the public name, port and HTTPS=on."""
    root = resource.Resource()
    root.putChild("cgi-bin", twcgi.CGIDirectory(str(cgiBin)))
    root.putChild("vhost.rpy", vhost.VHostMonsterResource())
    with served(root) as port:
        env = envOf(fetch(port, "/vhost.rpy/https/example.com/cgi-bin/env.sh/x")[3])
    assert (env["SERVER_NAME"], env["SERVER_PORT"], env["HTTPS"]) == ("example.com", "443", "on")
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("/cgi-bin/env.sh", "/x")
    assert env["HTTP_HOST"] == "example.com"


# -- what may run: names, folders, permissions --------------------------------------------------

@pytest.mark.parametrize("path, status", [
    ("/cgi-bin/", 403),
    ("/cgi-bin", 403),
    ("/cgi-bin/notexec.sh", 403),
    ("/cgi-bin/missing.sh", 404),
    ("/cgi-bin/.hidden.sh", 404),
    ("/cgi-bin/link.sh", 404),
])
def test_what_a_cgi_folder_refuses(cgiPort, cgiBin, path, status):
    """Listings and non-executables are 403; missing, hidden and escaping names are 404."""
    assert fetch(cgiPort, path)[0] == status
    assert not (cgiBin.parent / "ran-outside").exists()


@pytest.mark.parametrize("target", [
    b"/cgi-bin/../outside.sh", b"/cgi-bin/%2e%2e/outside.sh", b"/cgi-bin/..%2foutside.sh",
    b"/cgi-bin/%2E%2E%2Foutside.sh", b"/cgi-bin/..%5coutside.sh", b"/cgi-bin/a%00b",
    b"/cgi-bin/sub/../../outside.sh", b"/cgi-bin/%2e",
])
def test_traversal_never_runs_outside(cgiPort, cgiBin, target):
    """'..' in any spelling, slashes, backslashes and NUL never run a script outside the folder."""
    assert rawStatus(cgiPort, target) in (400, 403, 404)
    assert not (cgiBin.parent / "ran-outside").exists()


def test_cgiscript_as_a_file_processor(tmp_path):
    """CGIScript(path, registry) works as a static.File processor (e.g. '.cgi')."""
    write(tmp_path / "site" / "a.cgi", SCRIPTS["hello.sh"])
    write(tmp_path / "site" / "plain.cgi", SCRIPTS["hello.sh"], mode=0o644)
    root = static.File(str(tmp_path / "site"))
    root.processors = {".cgi": twcgi.CGIScript}
    with served(root) as port:
        assert fetch(port, "/a.cgi?x")[::3] == (200, b"hello x\n")
        assert fetch(port, "/plain.cgi")[0] == 403


def test_script_gone_before_render_is_404(tmp_path):
    """A script removed between lookup and run is a 404, not a crash."""
    script = write(tmp_path / "gone.sh", SCRIPTS["hello.sh"])
    root = resource.Resource()
    root.putChild("gone", twcgi.CGIScript(str(script)))
    script.unlink()
    with served(root) as port:
        assert fetch(port, "/gone")[0] == 404


def test_unrunnable_file_is_500(tmp_path):
    """An executable file that is no program (no #! line, not binary) is a 500 page."""
    script = write(tmp_path / "nonsense.bin", "\x7fELF not really\n")
    root = resource.Resource()
    root.putChild("x", twcgi.CGIScript(str(script)))
    with served(root) as port:
        assert fetch(port, "/x")[0] == 500


def test_filtered_script_without_filter_is_500(tmp_path):
    """A FilteredScript subclass that forgot its filter answers 500."""
    script = write(tmp_path / "x.pl", "print 1;\n", mode=0o644)
    root = resource.Resource()
    root.putChild("x", twcgi.FilteredScript(str(script)))
    with served(root) as port:
        assert fetch(port, "/x")[0] == 500


def test_filtered_script_runs_interpreter(tmp_path):
    """FilteredScript runs `filter FILE`: the file needs no exec bit."""
    class ShScript(twcgi.FilteredScript):
        filter = shutil.which("sh")

    script = write(tmp_path / "x.sh", "printf 'Content-Type: text/plain\\n\\nvia filter'\n",
                   mode=0o644)
    root = resource.Resource()
    root.putChild("x", ShScript(str(script)))
    with served(root) as port:
        assert fetch(port, "/x")[::3] == (200, b"via filter")


# -- perl ------------------------------------------------------------------------------------

@needsPerl
def test_perl_cgi_script_in_cgi_bin(cgiBin, cgiPort):
    """An executable perl script with a #! line runs from the cgi-bin."""
    write(cgiBin / "hello.pl", "#!/usr/bin/perl\n"
          "print \"Content-Type: text/plain\\r\\n\\r\\n\";\n"
          "print \"perl $ENV{REQUEST_METHOD} $ENV{QUERY_STRING}\\n\";\n")
    assert fetch(cgiPort, "/cgi-bin/hello.pl?a=b")[::3] == (200, b"perl GET a=b\n")


@needsPerl
def test_perl_filtered_script_as_processor(tmp_path):
    """The guide's PerlScript: static.File processors map .pl to a FilteredScript, index.pl included."""
    class PerlScript(twcgi.FilteredScript):
        filter = PERL

    perlsite = tmp_path / "perlsite"
    write(perlsite / "index.pl", 'print "Content-Type: text/plain\\r\\n\\r\\n";\n'
          'print "perl index $ENV{REQUEST_METHOD} [$ENV{QUERY_STRING}] $ENV{PATH_INFO}\\n";\n',
          mode=0o644)
    write(perlsite / "post.pl", 'use Digest::SHA qw(sha256_hex);\n'
          'binmode STDIN; local $/; my $d = <STDIN>;\n'
          'print "Content-Type: text/plain\\n\\n", length($d), " ", sha256_hex($d);\n',
          mode=0o644)
    root = static.File(str(perlsite))
    root.processors = {".pl": PerlScript}
    root.indexNames = ["index.pl"]
    with served(root) as port:
        assert fetch(port, "/")[::3] == (200, b"perl index GET [] \n")
        assert fetch(port, "/index.pl/more?x=1")[::3] == (200, b"perl index GET [x=1] /more\n")
        data = os.urandom(3 * 1024 * 1024 + 7)
        status, _, _, body = fetch(port, "/post.pl", method="POST", body=data)
        assert (status, body.decode()) == (200, "%d %s" % (len(data), hashlib.sha256(data).hexdigest()))
