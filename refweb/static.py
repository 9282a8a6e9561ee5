# -*- test-case-name: tests.test_static -*-
"""Files and folders on disk, served as resources.

Guide: "Serving Flat HTML" (``twistd web --path DIR``), "Advanced
Configuration" (``static.File("/var/www/htdocs")``, ``putChild`` over the
filesystem), "Modifying File Resources" (``indexNames``, ``processors``,
``ignoreExt``) and "As-Is Serving" (``ASISProcessor``).

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
"""

import html
import mimetypes
import os
import re
import stat
import threading
import time
import urllib.parse

from refweb import error, grammar, http, resource
from refweb.server import NOT_DONE_YET

# Types that must not depend on the machine's /etc/mime.types (the guide's
# flat HTML and text files, and what browsers need for pages to work).
_BUILTIN_TYPES = {
    ".css": "text/css", ".csv": "text/csv", ".diff": "text/plain",
    ".gif": "image/gif", ".htm": "text/html", ".html": "text/html",
    ".ico": "image/vnd.microsoft.icon", ".ipynb": "application/x-ipynb+json",
    ".jpeg": "image/jpeg", ".jpg": "image/jpeg",
    ".js": "text/javascript", ".json": "application/json", ".log": "text/plain",
    ".md": "text/markdown", ".mjs": "text/javascript", ".mp3": "audio/mpeg",
    ".mp4": "video/mp4", ".patch": "text/plain", ".pdf": "application/pdf",
    ".png": "image/png", ".py": "text/plain", ".rpy": "text/plain",
    ".rst": "text/plain", ".svg": "image/svg+xml", ".tac": "text/plain",
    ".txt": "text/plain", ".wasm": "application/wasm", ".webp": "image/webp",
    ".woff": "font/woff", ".woff2": "font/woff2", ".xml": "text/xml",
    ".zip": "application/zip",
}

MAX_RANGES = 16  # more than this in one Range header is ignored (RFC 9110 §14.2 allows it)


def loadMimeTypes(mimetype_locations=()):
    """Extension -> content type: the stdlib's defaults, then any mime.types
    files named, then refweb's own table (which wins, so that a ``.txt`` is
    ``text/plain`` on every machine)."""
    db = mimetypes.MimeTypes()
    for location in mimetype_locations:
        if os.path.exists(location):
            db.read(location)
    types = dict(db.types_map[True])
    types.update(_BUILTIN_TYPES)
    return types


def getTypeAndEncoding(filename, types, encodings, defaultType):
    """(content type, content encoding or None) for a file name.

    ``page.html.gz`` is ``text/html`` sent with ``Content-Encoding: gzip``, as
    in Twisted; extensions are matched case-insensitively.
    """
    stem, ext = os.path.splitext(filename)
    ext = ext.lower()
    encoding = encodings.get(ext)
    if encoding is not None:
        ext = os.path.splitext(stem)[1].lower()
    return types.get(ext, defaultType), encoding


def formatFileSize(size):
    """A short human size for listings: 512B, 2.8M, 12M, 2G.

    Powers of 1024, rounded down (a listing never overstates a size); one
    decimal below 10 so that 2.9 MiB does not read as 2M, none when it is .0.
    """
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if size >= scale:
            tenths = size * 10 // scale
            if tenths < 100 and tenths % 10:
                return "%d.%d%s" % (tenths // 10, tenths % 10, unit)
            return "%d%s" % (size // scale, unit)
    return "%dB" % size


def _count(number, noun):
    """'1 file', '3 files', '0 folders'."""
    return "%d %s%s" % (number, noun, "" if number == 1 else "s")


class Registry:
    """Shared state for one tree of Files and the scripts under it.

    The guide's counter script calls ``registry.getComponent(Counter)`` and
    expects ``None`` until something was set, for any key.
    """

    def __init__(self):
        self._components = {}
        self._paths = {}
        self._lock = threading.Lock()  # scripts run in many connection threads

    def getComponent(self, key, default=None):
        with self._lock:
            return self._components.get(key, default)

    def setComponent(self, key, value):
        with self._lock:
            self._components[key] = value

    def removeComponent(self, key):
        with self._lock:
            return self._components.pop(key, None)

    def cachePath(self, path, rsrc):
        """Keep a script's resource (``cache()`` in a .rpy)."""
        with self._lock:
            self._paths[path] = rsrc

    def getCachedPath(self, path):
        with self._lock:
            return self._paths.get(path)

    def uncachePath(self, path):
        with self._lock:
            self._paths.pop(path, None)


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


def _quoteName(name):
    # os.listdir gives undecodable bytes as surrogates: quote them back to bytes.
    return urllib.parse.quote(name, errors="surrogateescape")


def _displayName(name):
    return html.escape(name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


class File(resource.Resource):
    """A file or folder on disk, and every file and folder below it.

    Class attributes a site may change (the guide sets the first two):
    ``indexNames``, ``processors`` (extension -> ``factory(path, registry)``),
    ``contentTypes`` (extension -> type; extend it on the class or give an
    instance its own dict), ``contentEncodings``, ``childNotFound``,
    ``hiddenPaths`` (files never listed nor served: ``refweb web`` puts its
    own pid and log files there).  Children made by ``getChild`` inherit all
    of them, plus ``registry``, ``defaultType``, ``ignoredExts`` and
    ``allowDotfiles``.
    """

    contentTypes = loadMimeTypes()
    contentEncodings = {".gz": "gzip", ".bz2": "bzip2"}
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

    def isdir(self):  # a File is a FilePath in Twisted; this much of it is kept
        return os.path.isdir(self.path)

    def ignoreExt(self, ext):
        """Let ``/foo`` find ``foo<ext>`` when nothing named ``foo`` exists."""
        self.ignoredExts.append(ext)

    # -- traversal ----------------------------------------------------------

    def getChild(self, name, request):
        """The resource for one more URL segment below this folder.

        A file has no children.  For a name, the lstat below says so (it
        fails, with ENOTDIR), which spares an isdir() per request (a stat,
        about 1.5 us; bench/bench_smallfile.py); "" is checked here."""
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
                # realpath() (an lstat per component of the path) and a stat:
                # about 12 us of the 4 KiB file's 90 (bench/bench_smallfile.py).
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
        ext = os.path.splitext(path)[1]
        processor = self.processors.get(ext) or self.processors.get(ext.lower())
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
                               self.contentEncodings, self.defaultType)

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
        fileobj = self.openForReading()
        return self._sendFile(request, fileobj)

    render_HEAD = render_GET

    def openForReading(self):
        """Open the file, refusing anything but a regular file.  O_NONBLOCK:
        a FIFO swapped in after the stat opens at once; fstat rejects it."""
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags)
        except PermissionError:
            raise error.Forbidden("Not allowed to read this file.")
        except OSError:
            raise error.NotFound("File not found.")
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise error.Forbidden("Only regular files are served.")
        # Unbuffered: os.sendfile reads the file itself, and a buffered
        # reader's set-up costs two more system calls (the isatty ioctl and an
        # lseek), about 3 us of a 4 KiB file's request (bench/bench_smallfile.py).
        return os.fdopen(fd, "rb", buffering=0)

    def redirect(self, request):
        """301 to the same URL with a slash added, query string kept."""
        query = request.uri.partition("?")[2]
        try:
            url = request.prePathURL()
        except Exception:  # a request without the site's URL helpers
            url = urllib.parse.quote(request.prepath[-1] if request.prepath else "")
        url = url + "/" + ("?" + query if query else "")
        request.setResponseCode(http.MOVED_PERMANENTLY)
        request.setHeader("Location", url)
        href = html.escape(url, quote=True)
        return '<html><body><a href="%s">%s</a></body></html>' % (href, href)

    def _sendFile(self, request, fileobj):
        with fileobj:
            st = os.fstat(fileobj.fileno())
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
            parts = _planBody(request, ctype, st.st_size, ranges)
            if request.method != "HEAD":
                _writeParts(request, fileobj, parts)
            request.finish()
            return NOT_DONE_YET


def _writeParts(request, fileobj, parts):
    """Send the planned body, stopping early once the client has gone."""
    for item in parts:
        if isinstance(item, bytes):
            request.write(item)
        elif not request.writeFile(fileobj, item[0], item[1]):
            return


def makeETag(st):
    """A strong validator from size and modification time (RFC 9110 §8.8.3)."""
    return '"%x-%x"' % (st.st_size, st.st_mtime_ns)


def parseRange(header, size):
    """``bytes=0-9,20-`` -> [(first, last), ...] satisfiable ranges; [] when
    none is satisfiable; None when the header is to be ignored (bad syntax,
    another unit, or too many ranges)."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    pieces = spec.split(",")
    if len(pieces) > MAX_RANGES:
        return None
    ranges = []
    for piece in pieces:
        piece = piece.strip(" \t")
        if not grammar.matches("byte-range-spec", piece) or piece == "-":
            return None  # ASCII digits only: "0-³" is not a range (RFC 9110 §14.1.1)
        first, _, last = piece.partition("-")
        # Positions past any file are capped rather than converted whole:
        # 10,000 digits mean "beyond the end" as well as 20 do.
        first, last = _position(first), _position(last)
        if first is None:
            length = last  # a suffix: the final N bytes (RFC 9110 §14.1.1)
            if length > 0 and size > 0:
                ranges.append((max(0, size - length), size - 1))
            continue
        start = first
        if last is not None and last < start:
            return None  # RFC 9110 §14.1.1: last-pos < first-pos is invalid
        end = last if last is not None else size - 1
        if start < size:
            ranges.append((start, min(end, size - 1)))
    return ranges


_BEYOND_ANY_FILE = 10 ** 18


def _position(digits):
    """A byte position's digits -> int (None for ""), capped at 10**18."""
    if digits == "":
        return None
    value = grammar.parseDigits(digits)
    return _BEYOND_ANY_FILE if value is None else min(value, _BEYOND_ANY_FILE)


def requestedRanges(request, size, etag, mtime):
    """The ranges to send for a GET, or None to send the whole file."""
    header = request.getHeader("Range")
    if header is None or request.method not in ("GET", "HEAD"):
        return None
    ifRange = (request.getHeader("If-Range") or "").strip()
    if ifRange and ifRange not in (etag, http.datetimeToString(mtime)):
        return None  # RFC 9110 §13.1.5: the file changed since, so send all of it
    return parseRange(header, size)


def _planBody(request, ctype, size, ranges):
    """Set the status and headers for the body, and return it as a list of
    bytes (to write) and (offset, count) pairs (to send from the file)."""
    if ranges is None:
        request.setHeader("Content-Type", ctype)
        request.setHeader("Content-Length", str(size))
        return [(0, size)] if size else []
    request.setResponseCode(http.PARTIAL_CONTENT)
    if len(ranges) == 1:
        start, end = ranges[0]
        request.setHeader("Content-Type", ctype)
        request.setHeader("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        request.setHeader("Content-Length", str(end - start + 1))
        return [(start, end - start + 1)]
    boundary = os.urandom(12).hex()  # RFC 9110 §14.6: multipart/byteranges
    parts, length = [], 0
    for start, end in ranges:
        head = ("\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %d-%d/%d\r\n\r\n"
                % (boundary, ctype, start, end, size)).encode("latin-1")
        parts += [head, (start, end - start + 1)]
        length += len(head) + end - start + 1
    tail = ("\r\n--%s--\r\n" % boundary).encode("ascii")
    parts.append(tail)
    request.setHeader("Content-Type", "multipart/byteranges; boundary=" + boundary)
    request.setHeader("Content-Length", str(length + len(tail)))
    return parts


# The listing adds its table to the look every refweb page shares (error.STYLE).
# On a narrow screen the type column goes, and names wrap rather than overflow.
_LISTING_STYLE = error.STYLE + """
table { border-collapse: collapse; width: 100% } th, td { text-align: left; padding: .3em .6em }
th { border-bottom: 1px solid #ccc; white-space: nowrap } tr:nth-child(even) { background: #f6f6f6 }
td.name { overflow-wrap: anywhere } td.size, th.size { text-align: right; white-space: nowrap }
td.date { white-space: nowrap; font-variant-numeric: tabular-nums } td.type { color: #555 }
@media (max-width: 40em) { .type { display: none } th, td { padding: .3em .3em } }
"""

# ?sort= names a column; the entry's key for it.  Ties (and folders, which
# have no size) fall back to the name, so every order is total and stable.
_SORT_KEYS = {
    "name": lambda entry: (entry.name.casefold(), entry.name),
    "size": lambda entry: (entry.size, entry.name.casefold(), entry.name),
    "date": lambda entry: (entry.mtime, entry.name.casefold(), entry.name),
}
_COLUMNS = (("name", "Name"), ("size", "Size"), ("date", "Modified (UTC)"))  # sort key, heading


class _Entry:
    """One row of a listing: what os.stat said about one name."""

    def __init__(self, name, st, isFolder, ctype="", encoding=""):
        self.name, self.isFolder = name, isFolder
        self.size = 0 if isFolder else st.st_size
        self.mtime = st.st_mtime
        self.ctype, self.encoding = ctype, encoding


def _firstArg(request, name):
    """The first value of query parameter ``name`` as text, or ""."""
    values = (getattr(request, "args", None) or {}).get(name) or [""]
    value = values[0]
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _sortOrder(request):
    """(column, descending) asked for by ?sort=name|size|date&order=asc|desc.

    Anything else is the default, name ascending: a listing never fails over
    its query string.
    """
    column = _firstArg(request, "sort")
    if column not in _SORT_KEYS:
        column = "name"
    return column, _firstArg(request, "order") == "desc"


def _modified(mtime):
    """(machine form, short human form) of a modification time, in UTC."""
    moment = time.gmtime(mtime)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", moment), time.strftime("%Y-%m-%d %H:%M", moment)


class DirectoryLister(resource.Resource):
    """An HTML page listing a folder, as a browser user expects one.

    A link to the parent folder (except at the top of the URL space), then
    folders, then files; each with a human size (the exact byte count in its
    tooltip), its modification time in UTC and its content type.  The column
    headings are links that sort by name, size or date, ascending or
    descending (``?sort=size&order=desc``) -- plain links, no JavaScript --
    and folders stay first in every order.  Every name is HTML-escaped in the
    text and percent-quoted in its link; the page has a viewport line and
    CSS that keep it readable on a small screen.
    """

    isLeaf = True

    def __init__(self, pathname, dirs=None, contentTypes=None, contentEncodings=None,
                 defaultType="text/html"):
        super().__init__()
        self.path = pathname
        self.dirs = dirs
        self.contentTypes = File.contentTypes if contentTypes is None else contentTypes
        self.contentEncodings = (File.contentEncodings if contentEncodings is None
                                 else contentEncodings)
        self.defaultType = defaultType

    def _names(self):
        """The names given (File.listNames), else everything in the folder."""
        if self.dirs is not None:
            return self.dirs
        try:
            return sorted(os.listdir(self.path))
        except OSError:  # gone, not a folder, or unreadable: a 404 page, not a 500
            raise error.NotFound("This folder cannot be listed.")

    def _entries(self):
        """(folders, files) as _Entry lists, in no particular order."""
        folders, files = [], []
        for name in self._names():
            try:
                st = os.stat(os.path.join(self.path, name))
            except OSError:
                continue  # gone since listNames, or unreadable
            if stat.S_ISDIR(st.st_mode):
                folders.append(_Entry(name, st, True, "folder"))
            else:
                ctype, enc = getTypeAndEncoding(name, self.contentTypes,
                                                self.contentEncodings, self.defaultType)
                files.append(_Entry(name, st, False, ctype, enc or ""))
        return folders, files

    def sortedEntries(self, column="name", descending=False):
        """Folders, then files, each sorted by ``column``; the listing's rows."""
        folders, files = self._entries()
        key = _SORT_KEYS[column]
        return (sorted(folders, key=key, reverse=descending)
                + sorted(files, key=key, reverse=descending))

    def _row(self, entry):
        href = _quoteName(entry.name) + ("/" if entry.isFolder else "")
        text = entry.name + ("/" if entry.isFolder else "")
        machine, human = _modified(entry.mtime)
        if entry.isFolder:
            size = '<td class="size">-</td>'
        else:
            size = '<td class="size" title="%d bytes">%s</td>' % (entry.size,
                                                                 formatFileSize(entry.size))
        kind = html.escape(entry.ctype + (", " + entry.encoding if entry.encoding else ""))
        return ('<tr><td class="name"><a href="%s">%s</a></td>%s'
                '<td class="date"><time datetime="%s">%s</time></td>'
                '<td class="type">%s</td></tr>'
                % (html.escape(href, quote=True), _displayName(text), size, machine, human, kind))

    def _heading(self, column, descending):
        """The header row: each column a link to sort by it (again: the other way)."""
        cells = []
        for key, label in _COLUMNS:
            if key == column:
                flip = "asc" if descending else "desc"
                arrow = " \u25bc" if descending else " \u25b2"
                sort = ' aria-sort="%s"' % ("descending" if descending else "ascending")
            else:
                flip, arrow, sort = "asc", "", ""
            cells.append('<th class="%s"%s><a href="?sort=%s&amp;order=%s">%s%s</a></th>'
                         % (key, sort, key, flip, label, arrow))
        cells.append('<th class="type">Type</th>')
        return "<tr>%s</tr>" % "".join(cells)

    def render_GET(self, request):
        path = request.path.partition("?")[0]
        title = _displayName(urllib.parse.unquote(path))
        column, descending = _sortOrder(request)
        entries = self.sortedEntries(column, descending)
        rows = [self._row(entry) for entry in entries]
        if path.strip("/"):  # every folder but the top has a parent to go up to
            rows.insert(0, _PARENT_ROW)
        folders = sum(1 for entry in entries if entry.isFolder)
        request.setHeader("Content-Type", "text/html; charset=utf-8")
        return _LISTING_PAGE % {
            "title": "Directory listing for %s" % title, "style": _LISTING_STYLE,
            "heading": self._heading(column, descending), "rows": "\n".join(rows),
            "counts": "%s, %s" % (_count(folders, "folder"), _count(len(entries) - folders, "file"))}


_PARENT_ROW = ('<tr><td class="name" colspan="4"><a href="../" rel="up">'
               "../ (parent folder)</a></td></tr>")

_LISTING_PAGE = error.HEAD + """<body><h1>%(title)s</h1>
<table>
%(heading)s
%(rows)s
</table>
<footer>%(counts)s; sort by a column's heading.</footer>
</body></html>
"""


class ASISProcessor(resource.Resource):
    """Sends a file that holds a whole HTTP response, status line and
    headers included, exactly as it is on disk (guide: "As-Is Serving").

    Nothing is added, so the response has no framing refweb could vouch
    for: the connection is closed after it, which ends the body for every
    client (RFC 9112 §6.3, rule 8).  HEAD gets the status line and headers.
    """

    isLeaf = True
    maxHeadSize = 65536  # the status line and headers must fit in this

    def __init__(self, path, registry=None):
        super().__init__()
        self.path = path
        self.registry = registry

    def render(self, request):
        with File(self.path).openForReading() as fileobj:
            head = fileobj.read(self.maxHeadSize)
            match = _ASIS_HEAD.match(head)
            if match is None:
                raise error.InternalServerError("%s is not an as-is response file."
                                                % os.path.basename(self.path))
            count = os.fstat(fileobj.fileno()).st_size
            if request.method == "HEAD":
                count = match.end() if match.group(3) else len(head)
            status = (int(match.group(1)), match.group(2).decode("latin-1"))
            _sendRaw(request, status, fileobj, count)
        return NOT_DONE_YET


# "HTTP/1.0 200 OK" + header lines + (if present) the blank line that ends them.
_ASIS_HEAD = re.compile(rb"HTTP/\d\.\d (\d{3}) ?([^\r\n]*)\r?\n(?:[^\r\n]+\r?\n)*(\r?\n)?")


def _sendRaw(request, status, fileobj, count):
    """Write ``count`` bytes of the file as the whole response, then close.

    As in Twisted, marking the request as started keeps refweb from sending
    a head of its own; without keep-alive the channel closes the connection
    once the request finishes, which is what ends the body for the client.
    """
    request.setResponseCode(status[0], status[1] or None)  # for the access log
    request.startedWriting = True
    request.channel.persistent = False
    request.writeFile(fileobj, 0, count)
    request.finish()
