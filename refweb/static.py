# -*- test-case-name: tests.test_static -*-
"""Files and folders on disk, served as resources.

Guide: "Serving Flat HTML" (``twistd web --path DIR``), "Advanced
Configuration" (``static.File("/var/www/htdocs")``, ``putChild`` over the
filesystem) and "Modifying File Resources" (``indexNames``, ``processors``,
``ignoreExt``).

Where it sits in a request's journey: ``resource.getChildForRequest`` calls
``File.getChild`` once per URL segment.  Each call maps one segment to one
name inside the folder, refusing anything that could climb out of the root
(``..``, slashes hidden by percent-encoding, symlinks that lead elsewhere,
dotfiles).  The ``File`` for the last segment then renders: a folder
redirects to its slash form, and ``/folder/`` serves an index file or a
``DirectoryLister``; a regular file is answered with validators
(``Last-Modified``, ``ETag``), conditional requests (304) and byte ranges
(206/416), its bytes streamed with ``request.writeFile`` so that memory stays
flat however big the file is.  A file whose extension is in ``processors``
is handed to that factory instead (``script.ResourceScript`` for ``.rpy``).

Start reading at ``File.getChild``, then ``File.render_GET``.  The rest of the
work lives beside this module, and its names are re-exported here, where
the guide finds them (``static.DirectoryLister``, ``static.ASISProcessor``):

    mediatypes  a file name's type (``loadMimeTypes``, ``getTypeAndEncoding``)
    ranges      validators, Range requests and the body's plan (``parseRange``)
    listing     the page for a folder without an index (``DirectoryLister``)
    asis        files that hold a whole response (``ASISProcessor``)
    registry    state shared by a tree's scripts (``Registry``)
"""

import html
import io
import os
import stat
import urllib.parse

from refweb import error, http, pages, resource
from refweb.asis import ASISProcessor
from refweb.listing import DirectoryLister, formatFileSize
from refweb.mediatypes import (TWISTED_CONTENT_ENCODINGS, getTypeAndEncoding, loadMimeTypes,
                               processorFor)
from refweb.ranges import MAX_RANGES, makeETag, parseRange, planBody, requestedRanges, writeParts
from refweb.registry import Registry
from refweb.server import NOT_DONE_YET

# os.open's flags for a file to serve: see File._openRegular.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

__all__ = [
    "File", "Data", "DirectoryLister", "Registry", "ASISProcessor", "loadMimeTypes",
    "getTypeAndEncoding", "formatFileSize", "parseRange", "makeETag", "requestedRanges",
    "MAX_RANGES", "TWISTED_CONTENT_ENCODINGS",
]


class Data(resource.Resource):
    """A leaf that serves fixed bytes with a fixed content type."""

    isLeaf = True

    def __init__(self, data, type):
        super().__init__()
        self.data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self.type = type

    def render_GET(self, request):
        request.setHeader("Content-Type", self.type)
        request.setHeader("Content-Length", str(len(self.data)))
        return self.data  # for HEAD the server sends the head only


def _badSegment(name):
    """Why a URL segment may not name a child on disk, or None if it may.

    Segments arrive percent-decoded, so ``%2e%2e`` is already ``..`` and
    ``%2f`` is already ``/``: checking the decoded text catches them all.
    """
    if name in (".", ".."):
        return "dot segment"
    for char in ("/", "\\", "\0"):
        if char in name:
            return "forbidden character"
    return None


def _inside(root, path):
    """True if ``path``, every symlink resolved, is ``root`` or below it."""
    return _isBelow(root, os.path.realpath(path))


def _isBelow(root, real):
    """True if the symlink-free path ``real`` is ``root`` or below it."""
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


class File(resource.Resource):
    """A file or folder on disk, and every file and folder below it.

    Class attributes a site may change (the guide sets the first two):
    ``indexNames``, ``processors`` (extension -> ``factory(path, registry)``),
    ``contentTypes`` (extension -> type; extend it on the class or give an
    instance its own dict), ``contentEncodings`` (extension -> content
    coding; empty, so that ``page.html.gz`` goes out as the ``application/gzip``
    file it is; ``mediatypes.TWISTED_CONTENT_ENCODINGS`` gives Twisted's
    ``text/html`` with ``Content-Encoding: gzip``), ``childNotFound``,
    ``hiddenPaths`` (files never listed nor served: ``refweb web`` puts its
    own pid and log files there).  Children made by ``getChild`` inherit all
    of them, plus ``registry``, ``defaultType``, ``ignoredExts`` and
    ``allowDotfiles``.
    """

    contentTypes = loadMimeTypes()
    contentEncodings = {}
    processors = {}
    indexNames = ["index", "index.html", "index.htm", "index.rpy"]
    childNotFound = resource.NoResource("File not found.")
    hiddenPaths = frozenset()  # real (symlink-free) absolute paths

    def __init__(self, path, defaultType="text/html", ignoredExts=(), registry=None,
                 allowExt=False, allowDotfiles=False):
        super().__init__()
        self.path = os.path.abspath(path)
        self.defaultType = defaultType
        self.ignoredExts = ["*"] if allowExt else list(ignoredExts)
        self.registry = registry if registry is not None else Registry()
        self.allowDotfiles = allowDotfiles
        # Copies, so that changing one site's settings never changes another's.
        self.processors = dict(self.processors)
        self.indexNames = list(self.indexNames)
        self._root = None  # see root
        self._realPath = None  # see realPath

    @property
    def root(self):
        """The real (symlink-free) folder nothing outside of which is served.
        Worked out on first use: a child made by getChild is given its
        parent's, which saves a realpath() per request."""
        if self._root is None:
            self._root = os.path.realpath(self.path)
        return self._root

    @root.setter
    def root(self, value):
        self._root = value

    @property
    def realPath(self):
        """``path`` with every symlink resolved.  Worked out on first use; a
        child made by getChild is given it (getChild needs its folder's)."""
        if self._realPath is None:
            self._realPath = os.path.realpath(self.path)
        return self._realPath

    @realPath.setter
    def realPath(self, value):
        self._realPath = value

    def __repr__(self):
        return "<%s %r>" % (type(self).__name__, self.path)

    def describeLabel(self):
        """For ``resource.describe``: the class, then the folder, its
        processors' extensions and its index names."""
        parts = [super().describeLabel(), "folder=%s" % self.path]
        if self.processors:
            parts.append("processors=%s" % ",".join(sorted(self.processors)))
        parts.append("indexNames=%s" % ",".join(self.indexNames))
        return " ".join(parts)

    def isdir(self):  # a File is a FilePath in Twisted; this much of it is kept
        return os.path.isdir(self.path)

    def ignoreExt(self, ext):
        """Let ``/foo`` find ``foo<ext>`` when nothing named ``foo`` exists."""
        self.ignoredExts.append(ext)

    # -- traversal ----------------------------------------------------------

    def getChild(self, name, request):
        """The resource for one more URL segment below this folder.

        A file has no children.  For a name, the lstat below says so (it
        fails, with ENOTDIR), which spares an isdir() per request (a stat;
        bench/README.rst says what it saves); "" is checked here."""
        if name == "":
            if not os.path.isdir(self.path):
                return self.childNotFound
            if request is not None and request.postpath:
                return self  # '//x' is read as '/x', as most servers merge slashes
            return self._indexOrListing()
        if _badSegment(name) or not self._nameVisible(name):
            return self.childNotFound
        childPath = os.path.join(self.path, name)
        try:
            mode = os.lstat(childPath).st_mode
        except (OSError, ValueError):  # nothing by that name: perhaps name + an ignored ext
            childPath = self._ignoredExtSibling(name)
            real = self._servableRealPath(childPath) if childPath else None
        else:
            if stat.S_ISLNK(mode):
                real = self._servableRealPath(childPath)
            else:
                # Not a link, in a folder whose real path is known: its real path
                # is the folder's plus its name.  This one lstat replaces
                # realpath() (an lstat per component of the path) and a stat
                # (bench/README.rst: what it saves).
                real = os.path.join(self.realPath, name)
                if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)) or not self._allowed(real):
                    real = None
        if not real:
            return self.childNotFound
        return self._resourceFor(childPath, real)

    def _nameVisible(self, name):
        return self.allowDotfiles or not name.startswith(".")

    def _allowed(self, real):
        """The symlink-free path ``real`` is inside the root and not hidden."""
        return _isBelow(self.root, real) and real not in self.hiddenPaths

    def _servable(self, path):
        """Inside the root, and a folder or a regular file (no FIFO, socket,
        device or dangling link: opening a FIFO would hang the thread)."""
        return self._servableRealPath(path) is not None

    def _servableRealPath(self, path):
        """``path``'s real (symlink-free) form if ``_servable``, else None."""
        real = os.path.realpath(path)  # once: it costs a system call per folder
        if not self._allowed(real):
            return None
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return None
        return real if stat.S_ISDIR(mode) or stat.S_ISREG(mode) else None

    def _ignoredExtSibling(self, name):
        for ext in self.ignoredExts:
            if ext == "*":
                try:
                    names = sorted(os.listdir(self.path))
                except OSError:
                    return None
                matches = [n for n in names if n.startswith(name + ".")]
                if matches:
                    return os.path.join(self.path, matches[0])
            elif os.path.lexists(os.path.join(self.path, name + ext)):
                return os.path.join(self.path, name + ext)
        return None

    def _indexOrListing(self):
        for name in self.indexNames:
            candidate = os.path.join(self.path, name)
            if self._servable(candidate) and not os.path.isdir(candidate):
                return self._resourceFor(candidate)
        return self.directoryListing()

    def _resourceFor(self, path, real=None):
        """A processor's resource for a regular file with a known
        extension, else a File like this one (told its real path, if known)."""
        processor = processorFor(self.processors, path)
        if processor is not None and os.path.isfile(path):
            return processor(path, self.registry)
        child = self.createSimilarFile(path)
        if real is not None and isinstance(child, File):
            child.realPath = real
        return child

    def createSimilarFile(self, path):
        """A File for ``path`` sharing this one's settings and root."""
        child = self.__class__(path, self.defaultType, self.ignoredExts, self.registry,
                               allowDotfiles=self.allowDotfiles)
        child.processors = self.processors
        child.indexNames = list(self.indexNames)
        child.root = self.root
        for name in ("contentTypes", "contentEncodings", "childNotFound", "hiddenPaths"):
            if name in self.__dict__:  # given to this instance only: pass it on
                setattr(child, name, self.__dict__[name])
        return child

    def listNames(self):
        """The names a listing shows: sorted, servable, no hidden dotfiles."""
        if not os.path.isdir(self.path):
            return []
        try:
            names = sorted(os.listdir(self.path))
        except OSError:
            return []
        return [n for n in names
                if self._nameVisible(n) and self._servable(os.path.join(self.path, n))]

    def directoryListing(self):
        return DirectoryLister(self.path, self.listNames(), self.contentTypes,
                               self.contentEncodings, self.defaultType, self.processors)

    # -- rendering ----------------------------------------------------------

    def render_GET(self, request):
        """Redirect a folder to its slash form; send a regular file."""
        try:
            st = os.stat(self.path)
        except PermissionError:
            raise error.Forbidden("Not allowed to read this file.")
        except OSError:
            raise error.NotFound("File not found.")
        if stat.S_ISDIR(st.st_mode):
            return self.redirect(request)
        if not stat.S_ISREG(st.st_mode):
            raise error.Forbidden("Only regular files are served.")
        fileobj, st = self._openRegular()
        return self._sendFile(request, fileobj, st)

    render_HEAD = render_GET

    def openForReading(self):
        """Open the file, refusing anything but a regular file."""
        return self._openRegular()[0]

    def _openRegular(self):
        """The open file and its fstat (its size and mtime as of the open).
        O_NONBLOCK: a FIFO swapped in after the stat opens at once; its
        fstat rejects it."""
        try:
            fd = os.open(self.path, _OPEN_FLAGS)
        except PermissionError:
            raise error.Forbidden("Not allowed to read this file.")
        except OSError:
            raise error.NotFound("File not found.")
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise error.Forbidden("Only regular files are served.")
        # Unbuffered (a raw FileIO): os.sendfile reads the file itself, and a
        # buffered reader's set-up costs two more system calls (the isatty
        # ioctl and an lseek; bench/README.rst).
        return io.FileIO(fd, "rb"), st

    def redirect(self, request):
        """301 to the same URL with a slash added, query string kept; the page
        (for a client that does not follow it) links there, in the look of
        every refweb page."""
        query = request.uri.partition("?")[2]
        try:
            url = request.prePathURL()
        except Exception:  # a request without the site's URL helpers
            url = urllib.parse.quote(request.prepath[-1] if request.prepath else "")
        url = url + "/" + ("?" + query if query else "")
        request.setResponseCode(http.MOVED_PERMANENTLY)
        request.setHeader("Location", url)
        request.setHeader("Content-Type", "text/html; charset=utf-8")
        href = html.escape(url, quote=True)
        return (_MOVED_HEAD + _MOVED_BODY % {"href": href}).encode("utf-8")

    def _sendFile(self, request, fileobj, st):
        """Answer with the open regular file ``fileobj`` (``st``: its fstat)."""
        with fileobj:
            ctype, encoding = getTypeAndEncoding(self.path, self.contentTypes,
                                                 self.contentEncodings, self.defaultType)
            etag = makeETag(st)
            request.setHeader("Accept-Ranges", "bytes")
            if encoding:
                request.setHeader("Content-Encoding", encoding)
            # The request records both validators (sent as ETag and Last-Modified)
            # and says CACHED when the client's copy is current: a 304, no body.
            if request.method in ("GET", "HEAD") and (
                    request.setETag(etag) is http.CACHED
                    or request.setLastModified(st.st_mtime) is http.CACHED):
                return b""
            ranges = requestedRanges(request, st.st_size, etag, st.st_mtime)
            if ranges == []:
                # RFC 9110 §15.5.17: the 416 says how long the file is; its page
                # is the one every error gets.
                request.setHeader("Content-Range", "bytes */%d" % st.st_size)
                raise error.RangeNotSatisfiable(
                    "No part of the requested range lies in the file (%d bytes)." % st.st_size)
            parts = planBody(request, ctype, st.st_size, ranges)
            if request.method != "HEAD":
                writeParts(request, fileobj, parts)
            request.finish()
            return NOT_DONE_YET


# The 301 page for /folder: error pages' head (pages.HEAD, pages.STYLE) and a link.
_MOVED_HEAD = pages.HEAD % {"title": "301 Moved Permanently", "style": pages.STYLE}
_MOVED_BODY = """<body>
<h1>301 Moved Permanently</h1>
<p>A folder's address ends with a slash: <a href="%(href)s">%(href)s</a></p>
<footer>refweb</footer>
</body></html>
"""
