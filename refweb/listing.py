# -*- test-case-name: tests.test_static -*-
"""The page a folder gets when it has no index file: a directory listing.

Guide: "Serving Flat HTML" (``twistd web --path DIR`` lists a folder
without an index) and "Modifying File Resources" (``indexNames`` decides
when a folder has one).

Where it sits in a request's journey: traversal reaches ``/folder/`` (the
empty last segment), ``static.File.getChild("")`` finds no index file and
returns ``File.directoryListing()``, a ``DirectoryLister`` for the folder
that is a leaf; its ``render_GET`` stats each name (``_entries``), sorts
the rows as the query string asks (``sortedEntries``) and fills the page.
Every name is escaped for HTML (``_displayName``) and quoted for its link
(``_quoteName``); the page wears the look of every refweb page
(``pages.STYLE``).

Start reading at ``DirectoryLister.render_GET``.
"""

import html
import os
import stat
import time
import urllib.parse

from refweb import error, pages, resource
from refweb.mediatypes import getTypeAndEncoding, processorFor

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


def processorKind(factory):
    """What the Type column says of a file a processor renders rather than
    sends: the factory's ``listingType`` ("resource script" for
    script.ResourceScript, "CGI script" for twcgi.CGIScript), else
    "rendered by" and its name."""
    kind = getattr(factory, "listingType", None)
    if kind:
        return kind
    return "rendered by " + getattr(factory, "__name__", type(factory).__name__)


def _quoteName(name):
    # os.listdir gives undecodable bytes as surrogates: quote them back to bytes.
    return urllib.parse.quote(name, errors="surrogateescape")


def _displayName(name):
    return html.escape(name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


# The listing adds its table to the look every refweb page shares (pages.STYLE).
# On a narrow screen the type column goes, and names wrap rather than overflow.
_LISTING_STYLE = pages.STYLE + """
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
    tooltip), its modification time in UTC and its content type -- or, for a
    file one of ``processors`` renders, what it is ("resource script").  The column
    headings are links that sort by name, size or date, ascending or
    descending (``?sort=size&order=desc``) -- plain links, no JavaScript --
    and folders stay first in every order.  Every name is HTML-escaped in the
    text and percent-quoted in its link; the page has a viewport line and
    CSS that keep it readable on a small screen.
    """

    isLeaf = True

    def __init__(self, pathname, dirs=None, contentTypes=None, contentEncodings=None,
                 defaultType="text/html", processors=None):
        super().__init__()
        self.path = pathname
        self.dirs = dirs
        # By default, what a File would send (static imports this module, so
        # File is looked up now rather than when this module is loaded).
        from refweb.static import File
        self.contentTypes = File.contentTypes if contentTypes is None else contentTypes
        self.contentEncodings = (File.contentEncodings if contentEncodings is None
                                 else contentEncodings)
        self.defaultType = defaultType
        self.processors = processors or {}  # File's: their files are typed by processorKind

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
                files.append(_Entry(name, st, False, *self._fileType(name)))
        return folders, files

    def _fileType(self, name):
        """(type, content coding) for a file's row: what a processor makes of
        it (an .rpy is a resource script, not text/plain), else what a File
        would send it as."""
        processor = processorFor(self.processors, name)
        if processor is not None:
            return processorKind(processor), ""
        ctype, encoding = getTypeAndEncoding(name, self.contentTypes,
                                             self.contentEncodings, self.defaultType)
        return ctype, encoding or ""

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
            size = '<td class="size" title="%s">%s</td>' % (_count(entry.size, "byte"),
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

_LISTING_PAGE = pages.HEAD + """<body><h1>%(title)s</h1>
<table>
%(heading)s
%(rows)s
</table>
<footer>%(counts)s; sort by a column's heading.</footer>
</body></html>
"""
