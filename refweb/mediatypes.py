# -*- test-case-name: tests.test_static -*-
"""What type a file is, from its name: the table behind ``Content-Type``.

Guide: "Serving Flat HTML" (a ``.html`` file is sent as ``text/html``, a
``.txt`` as ``text/plain``) and "Modifying File Resources" (``File`` keeps
the table as ``contentTypes``).

Where it sits in a request's journey: after traversal has found a
``static.File`` for a regular file, ``File._sendFile`` asks
``getTypeAndEncoding`` for the ``Content-Type`` to send; a
``listing.DirectoryLister`` asks it for each row's "Type" column.  Nothing
here touches a socket or a file's bytes: a name goes in, a type comes out.

Start reading at ``getTypeAndEncoding``; ``loadMimeTypes`` builds the table it reads.
``processorFor`` answers the other question a name raises: is the file
rendered by one of ``File.processors`` rather than sent?
"""

import mimetypes
import os

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

# A compressed file is served as what it is -- the archive a user downloads,
# saved byte for byte -- as nginx and Apache's defaults do; never as its
# contents with a Content-Encoding (see TWISTED_CONTENT_ENCODINGS).  Keys are
# lower case: ``.Z`` is looked up as ``.z``.
_COMPRESSED_TYPES = {
    ".gz": "application/gzip", ".tgz": "application/gzip",  # RFC 6713
    ".bz2": "application/x-bzip2", ".tbz": "application/x-bzip2",
    ".tbz2": "application/x-bzip2",
    ".xz": "application/x-xz", ".txz": "application/x-xz",
    ".zst": "application/zstd",  # RFC 8878 §7.1
    ".br": "application/x-brotli", ".z": "application/x-compress",
    ".lz": "application/x-lzip", ".lzma": "application/x-lzma",
    ".7z": "application/x-7z-compressed",
}

# Twisted's static.File sends ``page.html.gz`` as text/html with
# ``Content-Encoding: gzip``.  refweb's File does not (its contentEncodings is
# empty); give File.contentEncodings this table to get Twisted's behaviour.
TWISTED_CONTENT_ENCODINGS = {".gz": "gzip", ".bz2": "bzip2"}


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
    types.update(_COMPRESSED_TYPES)
    return types


def getTypeAndEncoding(filename, types, encodings, defaultType):
    """(content type, content encoding or None) for a file name.

    An extension found in ``encodings`` names a content coding and the type
    is the one before it: with ``TWISTED_CONTENT_ENCODINGS``, ``page.html.gz``
    is ``text/html`` sent with ``Content-Encoding: gzip``.  With no encodings
    (File's default) it is ``application/gzip``.  Extensions are matched
    case-insensitively.
    """
    stem, ext = os.path.splitext(filename)
    ext = ext.lower()
    encoding = encodings.get(ext)
    if encoding is not None:
        ext = os.path.splitext(stem)[1].lower()
    return types.get(ext, defaultType), encoding


def processorFor(processors, filename):
    """The factory of ``processors`` (extension -> factory) that renders a file
    of this name, or None: the extension as written first, then lower-cased."""
    if not processors:  # most folders have none: no name to split
        return None
    ext = os.path.splitext(filename)[1]
    return processors.get(ext) or processors.get(ext.lower())
