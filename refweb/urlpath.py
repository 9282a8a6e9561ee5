# -*- test-case-name: tests.test_server -*-
"""URLPath: a URL you can walk like a path (``request.URLPath().child("x")``).

Guide: not in the guide; a resource uses it to build links to itself and
its children from the URL the request came in by (``Request.URLPath``).

Start reading at ``URLPath``.
"""

import urllib.parse


class URLPath:
    """An absolute URL split into scheme, netloc, path, query and fragment."""

    def __init__(self, scheme="http", netloc="localhost", path="/", query="", fragment=""):
        self.scheme, self.netloc = scheme, netloc
        self.path = path or "/"
        self.query, self.fragment = query, fragment

    @classmethod
    def fromString(cls, url):
        parts = urllib.parse.urlsplit(url)
        return cls(parts.scheme, parts.netloc, parts.path, parts.query, parts.fragment)

    def _with(self, path, keepQuery=False):
        return URLPath(self.scheme, self.netloc, path, self.query if keepQuery else "")

    def pathList(self):
        return self.path.split("/")

    def child(self, segment, keepQuery=False):
        """The URL one segment further down."""
        segments = self.pathList()
        if segments[-1] == "":
            segments = segments[:-1]
        return self._with("/".join(segments + [urllib.parse.quote(segment, safe="")]), keepQuery)

    def sibling(self, segment, keepQuery=False):
        """The URL with the last segment replaced."""
        segments = self.pathList()[:-1] + [urllib.parse.quote(segment, safe="")]
        return self._with("/".join(segments), keepQuery)

    def here(self, keepQuery=False):
        """This URL's folder (ends in '/')."""
        return self.sibling("", keepQuery)

    def parent(self, keepQuery=False):
        """The folder above this URL's folder."""
        segments = self.pathList()[:-1]
        return self._with("/".join(segments[:-1] + [""]) or "/", keepQuery)

    def click(self, href):
        """Resolve a link found on this page, as a browser would."""
        return URLPath.fromString(urllib.parse.urljoin(str(self), href))

    def __str__(self):
        return urllib.parse.urlunsplit((self.scheme, self.netloc, self.path, self.query,
                                        self.fragment))

    __repr__ = __str__

    def __eq__(self, other):
        return isinstance(other, URLPath) and str(self) == str(other)
