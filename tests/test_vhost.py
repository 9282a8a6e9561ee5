"""Tests for refweb.vhost: NameVirtualHost and VHostMonsterResource.

Every behaviour test serves a real Site on a free port and asks it with
http.client (or a raw socket where http.client would tidy the request up).
"""

import pytest

from refweb import resource, static, vhost
from support import get, rawHTTP, served, statusOf


# -- helpers -------------------------------------------------------------------

def rawGet(port, path, hostLine=True):
    """(status, body) of an HTTP/1.0 GET sent as raw bytes (no Host unless asked)."""
    head = "GET %s HTTP/1.0\r\n%s\r\n" % (path, "Host: x\r\n" if hostLine else "")
    data = rawHTTP(port, head.encode("ascii"), timeout=10)
    return statusOf(data), data.partition(b"\r\n\r\n")[2]


class Text(resource.Resource):
    """A leaf that renders a fixed text plus the prepath it was reached with."""

    isLeaf = True

    def __init__(self, text):
        super().__init__()
        self.text = text

    def render_GET(self, request):
        return "%s %s" % (self.text, "/".join(request.prepath + request.postpath))


class Show(resource.Resource):
    """A leaf reporting how the request sees its own address."""

    isLeaf = True

    def render_GET(self, request):
        return "host=%s port=%s secure=%s prepathurl=%s hostheader=%s path=%s uri=%s" % (
            request.getRequestHostname(), request.getHost().port, request.isSecure(),
            request.prePathURL(), request.getHeader("host"), request.path, request.uri)


class Redirector(resource.Resource):
    """A leaf that redirects to ``there`` next to itself, by prePathURL."""

    isLeaf = True

    def render_GET(self, request):
        request.redirect(request.prePathURL().rsplit("/", 1)[0] + "/there")
        return b""


def kv(body):
    return dict(item.split("=", 1) for item in body.decode().split())


def tree(**children):
    root = resource.Resource()
    for name, child in children.items():
        root.putChild(name, child)
    return root


# -- splitHostPort and hostHeader ------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("example.com", ("example.com", None)),
    ("Example.COM:8080", ("example.com", 8080)),
    ("example.com.", ("example.com", None)),
    ("127.0.0.1:80", ("127.0.0.1", 80)),
    ("[::1]:8080", ("::1", 8080)),
    ("[::1]", ("::1", None)),
    (b"foo.com:81", ("foo.com", 81)),
    ("foo.com:", ("foo.com", None)),
    ("[::FFFF:1.2.3.4]", ("::ffff:1.2.3.4", None)),
])
def test_splitHostPort_table(text, expected):
    """Host[:port] parses into a lower-cased name (no brackets, no final dot) and an int port."""
    assert vhost.splitHostPort(text) == expected


@pytest.mark.parametrize("text", ["foo:bar", "foo:0", "foo:65536", "[::1", "[::1]x", "foo:-1"])
def test_splitHostPort_rejects_bad_ports_and_brackets(text):
    """A port that is not 1..65535, or a broken IPv6 bracket, is a ValueError."""
    with pytest.raises(ValueError):
        vhost.splitHostPort(text)


@pytest.mark.parametrize("text", ["", ":80", ".", "a b", "a/b", "a@b", "caf\u00e9.fr",
                                  "[g::1]", "[1:2:3:4:5:6:7:8:9]", "[v1.a]", "a:\u0668\u0660"])
def test_splitHostPort_rejects_what_is_not_a_host(text):
    """The text must be a Host value by grammar's rule "Host", naming a host: else a ValueError."""
    with pytest.raises(ValueError):
        vhost.splitHostPort(text)


@pytest.mark.parametrize("host, port, secure, expected", [
    ("example.com", 80, False, "example.com"),
    ("example.com", 443, True, "example.com"),
    ("example.com", 443, False, "example.com:443"),
    ("example.com", 8000, False, "example.com:8000"),
    ("::1", 8080, False, "[::1]:8080"),
])
def test_hostHeader_names_port_only_when_not_default(host, port, secure, expected):
    """The Host header a client would send omits the scheme's default port (RFC 9110 §7.2)."""
    assert vhost.hostHeader(host, port, secure) == expected


# -- NameVirtualHost ----------------------------------------------------------------

@pytest.fixture
def vhostSite():
    root = vhost.NameVirtualHost()
    root.default = tree(page=Text("default"))
    root.addHost("foo.com", tree(page=Text("foo")))
    root.addHost("Bar.COM", Text("bar-leaf"))
    root.addHost("[::1]", tree(page=Text("ipv6")))
    with served(root) as port:
        yield root, port


@pytest.mark.parametrize("host, body", [
    ("foo.com", b"foo page"),
    ("FOO.Com", b"foo page"),
    ("foo.com:8080", b"foo page"),
    ("foo.com.", b"foo page"),
    ("[::1]:8080", b"ipv6 page"),
    ("unknown.example", b"default page"),
])
def test_host_header_picks_the_site(vhostSite, host, body):
    """The Host header, any case, port dropped, chooses the site; unknown names get default."""
    _, port = vhostSite
    status, _, got = get(port, "/page", host=host)
    assert (status, got) == (200, body)


def test_no_host_header_gets_default(vhostSite):
    """An HTTP/1.0 request without Host is served by the default site."""
    _, port = vhostSite
    assert rawGet(port, "/page", hostLine=False) == (200, b"default page")


def test_leaf_site_renders_the_whole_path(vhostSite):
    """A leaf host resource gets every segment, as if it were the root."""
    _, port = vhostSite
    assert get(port, "/a/b", host="bar.com")[::2] == (200, b"bar-leaf a/b")
    assert get(port, "/", host="bar.com")[::2] == (200, b"bar-leaf ")


def test_unknown_host_without_default_is_404():
    """With no default site, an unknown name is a 404 page."""
    root = vhost.NameVirtualHost()
    root.addHost("foo.com", tree(page=Text("foo")))
    with served(root) as port:
        assert get(port, "/page", host="other.example")[0] == 404
        assert get(port, "/", host="other.example")[0] == 404
        assert get(port, "/page", host="foo.com")[::2] == (200, b"foo page")


def test_removeHost_falls_back_to_default(vhostSite):
    """After removeHost the name is served by the default site again."""
    root, port = vhostSite
    root.removeHost("FOO.com")
    assert get(port, "/page", host="foo.com")[2] == b"default page"
    with pytest.raises(KeyError):
        root.removeHost("foo.com")


def test_vhost_render_renders_the_chosen_site():
    """Rendering the NameVirtualHost itself renders the chosen site's resource."""
    root = vhost.NameVirtualHost()
    root.default = Text("default-root")
    request = _FakeRequest(host="x.example")
    assert root.render(request) == "default-root "


def test_garbled_host_gets_default():
    """A Host header that does not parse (refweb's channel already refuses most) picks the default."""
    root = vhost.NameVirtualHost()
    root.default = Text("default-root")
    root.addHost("foo.com", Text("foo"))
    assert root.getResourceForRequest(_FakeRequest(host="foo.com:notaport")) is root.default


def test_children_of_the_vhost_are_shared(vhostSite):
    """A child put on the NameVirtualHost itself is served for every host."""
    root, port = vhostSite
    root.putChild("shared", Text("shared"))
    for host in ("foo.com", "other.example"):
        assert get(port, "/shared", host=host)[::2] == (200, b"shared shared")


def test_static_sites_traverse_below_the_host(tmp_path):
    """Traversal continues inside a static.File site: subfolders, files and 404s."""
    (tmp_path / "foo" / "sub").mkdir(parents=True)
    (tmp_path / "foo" / "index.html").write_text("foo index\n")
    (tmp_path / "foo" / "sub" / "c.txt").write_text("c\n")
    root = vhost.NameVirtualHost()
    root.addHost("foo.com", static.File(str(tmp_path / "foo")))
    with served(root) as port:
        assert get(port, "/", host="foo.com")[::2] == (200, b"foo index\n")
        assert get(port, "/sub/c.txt", host="foo.com")[::2] == (200, b"c\n")
        assert get(port, "/nothere", host="foo.com")[0] == 404


class _FakeRequest:
    """Just enough of a request for NameVirtualHost.render."""

    def __init__(self, host):
        self.host = host
        self.method = "GET"
        self.prepath, self.postpath = [], []

    def getHeader(self, name):
        return self.host if name == "host" else None


# -- VHostMonsterResource --------------------------------------------------------------

@pytest.fixture
def monsterPort(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "index.html").write_text("sub index\n")
    files = static.File(str(tmp_path))
    root = tree(show=Show(), go=Redirector(), files=files)
    root.putChild("vhost.rpy", vhost.VHostMonsterResource())
    with served(root) as port:
        yield port


def show(port, path):
    status, _, body = get(port, path)
    assert status == 200, (path, status, body)
    return kv(body)


def test_without_monster_the_request_sees_the_local_address(monsterPort):
    """A plain request knows the server's own address."""
    info = show(monsterPort, "/show")
    assert (info["host"], info["port"], info["secure"]) == ("127.0.0.1", str(monsterPort), "False")
    assert info["prepathurl"] == "http://127.0.0.1:%d/show" % (monsterPort,)


@pytest.mark.parametrize("prefix, host, port, secure, url", [
    ("/vhost.rpy/http/example.com:80", "example.com", "80", "False", "http://example.com/show"),
    ("/vhost.rpy/http/example.com", "example.com", "80", "False", "http://example.com/show"),
    ("/vhost.rpy/http/Example.com:8000", "example.com", "8000", "False",
     "http://example.com:8000/show"),
    ("/vhost.rpy/https/secure.example.com:443", "secure.example.com", "443", "True",
     "https://secure.example.com/show"),
    ("/vhost.rpy/https/secure.example.com", "secure.example.com", "443", "True",
     "https://secure.example.com/show"),
    ("/vhost.rpy/https/secure.example.com:8443", "secure.example.com", "8443", "True",
     "https://secure.example.com:8443/show"),
])
def test_monster_makes_the_request_believe_the_public_address(monsterPort, prefix, host,
                                                             port, secure, url):
    """/vhost.rpy/SCHEME/HOST[:PORT]/rest is served as SCHEME://HOST:PORT/rest."""
    info = show(monsterPort, prefix + "/show?q=1")
    assert (info["host"], info["port"], info["secure"], info["prepathurl"]) == (
        host, port, secure, url)
    assert info["path"] == "/show"
    assert info["uri"] == "/show?q=1"
    assert info["hostheader"] == url.split("/")[2]


def test_monster_ipv6_host(monsterPort):
    """An IPv6 literal in brackets is a valid public host."""
    info = show(monsterPort, "/vhost.rpy/http/[::1]:8080/show")
    assert info["port"] == "8080"
    assert info["hostheader"] == "[::1]:8080"


def test_monster_redirects_name_the_public_host(monsterPort):
    """Redirects built from prePathURL (static.File's slash redirect, request.redirect) go to the public host."""
    status, headers, _ = get(monsterPort, "/vhost.rpy/https/example.com/files/sub")
    assert status == 301
    assert headers["location"] == "https://example.com/files/sub/"
    status, headers, _ = get(monsterPort, "/vhost.rpy/http/example.com:8000/go")
    assert (status, headers["location"]) == (302, "http://example.com:8000/there")
    status, _, body = get(monsterPort, "/vhost.rpy/http/example.com/files/sub/")
    assert (status, body) == (200, b"sub index\n")


@pytest.mark.parametrize("path", [
    "/vhost.rpy",
    "/vhost.rpy/",
    "/vhost.rpy/ftp/example.com/show",
    "/vhost.rpy/http",
    "/vhost.rpy/http/",
    "/vhost.rpy/http//show",
    "/vhost.rpy/http/example.com:99999/show",
    "/vhost.rpy/http/example.com:abc/show",
    "/vhost.rpy/http/exa%20mple.com/show",
    "/vhost.rpy/https/[::1/show",
    "/vhost.rpy/https/[1:2:3:4:5:6:7:8:9]/show",
    "/vhost.rpy/http/a%40b/show",
])
def test_monster_rejects_bad_scheme_or_host(monsterPort, path):
    """A scheme other than http/https, or a missing or malformed host, is a 400 page."""
    assert get(monsterPort, path)[0] == 400


def test_monster_behind_name_virtual_host(tmp_path):
    """The public host chosen by VHostMonster also picks the NameVirtualHost site."""
    root = vhost.NameVirtualHost()
    root.default = tree(page=Text("internal"))
    root.default.putChild("vhost.rpy", vhost.VHostMonsterResource())
    root.addHost("example.com", tree(page=Text("public")))
    with served(root) as port:
        assert get(port, "/vhost.rpy/http/example.com/page")[::2] == (200, b"public page")
        assert get(port, "/vhost.rpy/http/other.example/page")[::2] == (200, b"internal page")
