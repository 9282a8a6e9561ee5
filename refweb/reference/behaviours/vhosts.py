"""Virtual hosts and VHostMonster (guide: "Virtual Hosts", "Using VHostMonster")."""

import json

from refweb.reference.suite import behaviour, check, equal

VHOSTS = 'guide, "Virtual Hosts"'
MONSTER = 'guide, "Using VHostMonster"'


def page(server, host, path="/", **kw):
    return server.get(path, host=host, **kw)


@behaviour("vhosts", "vhosts", VHOSTS)
def named_host_foo(server):
    """Host: foo.com is served by the resource added, as the guide writes it, with addHost("foo.com")."""
    equal(page(server, "foo.com").body, b"<html>foo.com</html>\n", "body")


@behaviour("vhosts", "vhosts", VHOSTS)
def named_host_bar(server):
    """Host: bar.com is served by the resource added with addHost(b"bar.com")."""
    equal(page(server, "bar.com").body, b"<html>bar.com</html>\n", "body")


@behaviour("vhosts", "vhosts", VHOSTS)
def unknown_host_default(server):
    """An unknown host is served by NameVirtualHost.default."""
    equal(page(server, "other.org").body, b"<html>default host</html>\n", "body")


@behaviour("vhosts", "vhosts", "RFC 9110 §4.2.3; guide, \"Virtual Hosts\"")
def host_port_ignored(server):
    """The port in Host is not part of the name: bar.com:8080 is bar.com."""
    equal(page(server, "bar.com:8080").body, b"<html>bar.com</html>\n", "body")


@behaviour("vhosts", "vhosts", "RFC 9110 §4.2.3 (host is case-insensitive)")
def host_case_insensitive(server):
    """Host names are case-insensitive: BAR.COM is bar.com."""
    equal(page(server, "BAR.COM").body, b"<html>bar.com</html>\n", "body")


@behaviour("vhosts", "vhosts", "RFC 9112 §3.2.2")
def absolute_form_host_wins(server):
    """With an absolute-form target the Host header MUST be ignored: the target's host picks."""
    response = server.get("http://bar.com/", host="other.org")
    equal(response.body, b"<html>bar.com</html>\n", "body")


@behaviour("vhosts", "vhosts", VHOSTS)
def vhost_http10_no_host_default(server):
    """An HTTP/1.0 request with no Host goes to the default site."""
    response = server.get("/", host=None, version="HTTP/1.0")
    equal(response.body, b"<html>default host</html>\n", "body")


@behaviour("vhosts", "vhostsnodefault", VHOSTS)
def no_default_unknown_404(server):
    """With no default, an unknown host finds no resource: 404."""
    equal(page(server, "other.org").status, 404, "status")


@behaviour("vhosts", "vhostsnodefault", VHOSTS)
def no_default_known_served(server):
    """With no default, a known host is still served."""
    equal(page(server, "foo.com").status, 200, "status")


def where(server, path):
    response = server.get(path, host="internal:8538")
    equal(response.status, 200, "status of GET %s" % path)
    return json.loads(response.body)


@behaviour("vhosts", "vhostmonster", MONSTER)
def monster_sets_hostname(server):
    """/vhost/http/example.com:81/where makes the request's host example.com."""
    equal(where(server, "/vhost/http/example.com:81/where")["hostname"], "example.com", "hostname")


@behaviour("vhosts", "vhostmonster", MONSTER)
def monster_sets_port(server):
    """The port in the VHostMonster segment becomes the request's port (81)."""
    equal(where(server, "/vhost/http/example.com:81/where")["port"], 81, "port")


@behaviour("vhosts", "vhostmonster", MONSTER)
def monster_https_is_secure(server):
    """/vhost/https/... makes the request secure."""
    equal(where(server, "/vhost/https/example.com:443/where")["secure"], True, "isSecure()")


@behaviour("vhosts", "vhostmonster", MONSTER)
def monster_http_not_secure(server):
    """/vhost/http/... leaves the request not secure."""
    equal(where(server, "/vhost/http/example.com:80/where")["secure"], False, "isSecure()")


@behaviour("vhosts", "vhostmonster", MONSTER)
def monster_prepath_url(server):
    """prePathURL() names the public host, as the guide's Apache setup needs."""
    url = where(server, "/vhost/http/example.com:81/where")["prePathURL"]
    check(url.startswith("http://example.com:81/"), "prePathURL is %r" % url)


@behaviour("vhosts", "vhostmonster", MONSTER)
def monster_default_port(server):
    """With no port in the segment, http means port 80."""
    equal(where(server, "/vhost/http/example.com/where")["port"], 80, "port")


@behaviour("vhosts", "vhostmonster", MONSTER)
def without_monster_real_host(server):
    """Without the /vhost prefix the request keeps the Host it came with."""
    equal(where(server, "/where")["hostname"], "internal", "hostname")


@behaviour("vhosts", "vhostmonster", MONSTER)
def monster_then_files(server):
    """Files below VHostMonster are served as usual."""
    response = server.get("/vhost/http/example.com:80/files/")
    equal((response.status, response.body), (200, b"<html>foo.com</html>\n"), "status and body")
