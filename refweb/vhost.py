# -*- test-case-name: tests.test_vhost -*-
"""Virtual hosts: several sites behind one port, told apart by name.

Guide: "Virtual Hosts" (``NameVirtualHost``, its ``default`` and ``addHost``)
and "Using VHostMonster" (``VHostMonsterResource`` behind a reverse proxy).

Journey: server.Request.process -> resource.getChildForRequest -> here.

- ``NameVirtualHost`` is usually the Site's root.  For every segment it is
  asked about, it picks a site by the request's ``Host`` header (RFC 9110
  §7.2) and hands the segment on to that site's resource, so traversal goes
  on inside the chosen site as if that site were the root.
- ``VHostMonsterResource`` is usually ``/vhost.rpy``.  A front proxy sends
  ``/vhost.rpy/http/example.com:80/rest``; the two segments after it say
  which scheme, host and port the *client* used, the request is told so
  (``request.setHost``), and ``/rest`` is then looked up from the Site's root
  as if it had arrived alone.  From then on ``getRequestHostname()``,
  ``isSecure()``, ``prePathURL()`` and every redirect name the public site.

Start reading at ``NameVirtualHost.getChildWithDefault`` and ``_PublicHost.getChild``.
"""

from refweb import error, grammar, resource

# The schemes VHostMonster understands: segment -> (isSecure, default port).
SCHEMES = {
    "http": (False, 80),
    "https": (True, 443),
}


def splitHostPort(text, defaultPort=None):
    """``'Example.COM:8080'`` -> ``('example.com', 8080)``.

    The text must be a Host value (RFC 9110 §7.2: uri-host [ ":" port ],
    the rule ``Host`` of ``refweb.grammar``, checked by
    ``grammar.checkAuthority``) with a host that is not empty and a port
    that is not 0; anything else is a ValueError.  An IPv6 literal keeps no
    brackets: ``'[::1]:8080'`` -> ``('::1', 8080)`` (an IPvFuture literal,
    which names no address a socket can reach, is refused).  Without a
    port, or with an empty one (``'a:'``, RFC 3986 §6.2.3), ``defaultPort``
    is returned.  The name is lower-cased and loses a final dot, since
    ``Example.com.`` names the same host (RFC 9110 §4.2.3: hosts compare
    case-insensitively).
    """
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    host, port = grammar.checkAuthority(text.strip(), allowEmptyHost=False)
    if port == 0:
        raise ValueError("bad port: %r" % (text,))
    if host.startswith("["):
        host = host[1:-1]
        if not grammar.matches("IPv6address", host):
            raise ValueError("not an IPv6 literal: %r" % (text,))
    host = host.lower()
    if host.endswith(".") and ":" not in host:
        host = host[:-1]
    if not host:
        raise ValueError("no host name: %r" % (text,))
    return host, (defaultPort if port is None else port)


class NameVirtualHost(resource.Resource):
    """The root of a name-based virtual-hosting site.

    ``default`` is the site for any name not added with ``addHost`` (no
    default: a 404 page).  Children put on the NameVirtualHost itself are
    shared by every host.  Hooks a subclass may override:
    ``getResourceForRequest(request)``.
    """

    default = None

    def __init__(self):
        super().__init__()
        self.hosts = {}  # normalized host name -> resource

    def addHost(self, name, resrc):
        """Serve ``resrc`` for requests whose Host is ``name`` (any case,
        any port)."""
        self.hosts[self._normalize(name)] = resrc

    def removeHost(self, name):
        """Stop serving ``name``; KeyError if it was never added."""
        del self.hosts[self._normalize(name)]

    @staticmethod
    def _normalize(name):
        if isinstance(name, bytes):  # Twisted's spelling on Python 3: b"foo.com"
            name = name.decode("ascii")
        host, _ = splitHostPort(name)
        return host

    def getResourceForRequest(self, request):
        """The site named by the request's Host header, else ``default``,
        else a 404 page."""
        header = request.getHeader("host")
        found = None
        if header:
            try:
                host, _ = splitHostPort(header)
            except ValueError:
                host = None  # a garbled Host gets the default site, like no Host
            found = self.hosts.get(host)
        if found is None:
            found = self.default
        if found is None:
            return resource.NoResource("No site is served under this host name.")
        return found

    def getChildWithDefault(self, path, request):
        """Go on in the chosen site: ask it for the same segment."""
        if path in self.children:
            return self.children[path]
        site = self.getResourceForRequest(request)
        if site.isLeaf:
            # A leaf site renders the whole rest of the path itself: give the
            # segment back, as if the leaf had been reached one step earlier.
            request.postpath.insert(0, request.prepath.pop())
            return site
        return site.getChildWithDefault(path, request)

    def render(self, request):
        """Rendered itself (no segment left): render the chosen site."""
        return self.getResourceForRequest(request).render(request)

    def describeInner(self):
        """For ``resource.describe``: each host's site, by name, then the default."""
        inner = [("[host %s]" % host, site) for host, site in sorted(self.hosts.items())]
        if isinstance(self.default, resource.Resource):
            inner.append(("[default]", self.default))
        return inner


class VHostMonsterResource(resource.Resource):
    """``/vhost.rpy/SCHEME/HOST[:PORT]/rest``: serve ``/rest`` as if the client
    had asked ``SCHEME://HOST:PORT/rest`` (guide: "Using VHostMonster").

    The first segment below it is ``http`` or ``https`` (anything else: 400).
    """

    def getChild(self, path, request):
        if path not in SCHEMES:
            return badRequest("VHostMonster expects /http/ or /https/ here.")
        secure, defaultPort = SCHEMES[path]
        return _PublicHost(secure, defaultPort)

    def render(self, request):
        raise error.BadRequest(detail="VHostMonster expects /SCHEME/HOST[:PORT]/ below it.")


class _PublicHost(resource.Resource):
    """The ``SCHEME`` step of VHostMonster: its child segment is the public
    ``HOST[:PORT]``, after which the Site's root takes over."""

    def __init__(self, secure, defaultPort):
        super().__init__()
        self.secure = secure
        self.defaultPort = defaultPort

    def getChild(self, path, request):
        try:
            host, port = splitHostPort(path, self.defaultPort)
        except ValueError:
            return badRequest("VHostMonster: missing or bad HOST[:PORT] segment.")
        request.setHost(host, port, self.secure)
        request.requestHeaders.setRawHeaders("host", [hostHeader(host, port, self.secure)])
        _forgetPrefix(request, len(request.prepath))
        # Traversal starts over at the Site's root with what is left of the
        # path, so the public URL "/rest" finds what the front proxy meant.
        return request.site.resource

    def render(self, request):
        raise error.BadRequest(detail="VHostMonster expects /SCHEME/HOST[:PORT]/ below it.")


def badRequest(detail):
    """A 400 page that also answers for every segment below it."""
    return resource.ErrorPage(400, "Bad Request", detail)


def hostHeader(host, port, secure):
    """The Host header a client would have sent (RFC 9110 §7.2): the port
    only when it is not the scheme's default, IPv6 in brackets."""
    name = "[%s]" % (host,) if ":" in host else host
    if port == (443 if secure else 80):
        return name
    return "%s:%d" % (name, port)


def _forgetPrefix(request, count):
    """Drop the first ``count`` segments (``vhost.rpy``, scheme, host) from
    prepath, ``request.path`` and ``request.uri``: the request now looks as
    if it had arrived for the rest of the path alone."""
    del request.prepath[:count]
    segments = request.path.split("/")[1:]  # as server.splitSegments cut them
    rest = "/" + "/".join(segments[count:])
    query = request.uri.partition("?")[2]
    request.path = rest
    request.uri = rest + ("?" + query if query else "")
    if hasattr(request, "sitepath"):
        request.sitepath = []
    # A fresh traversal: RewriterResource rules may apply again (refweb.rewrite).
    request.__dict__.pop("_rewritesApplied", None)
