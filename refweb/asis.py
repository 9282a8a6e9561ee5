# -*- test-case-name: tests.test_static -*-
"""As-is files: a file on disk that holds a whole HTTP response.

Guide: "As-Is Serving" (``static.ASISProcessor``, mapped to an extension
with ``File.processors``).

Where it sits in a request's journey: traversal reaches a ``static.File``
folder, whose ``processors`` map ``.asis`` to ``ASISProcessor``; for
``page.asis`` the folder returns ``ASISProcessor(path, registry)``, a leaf.
Its ``render`` checks that the file starts with a status line, and
``_sendRaw`` copies the file to the connection untouched -- no head of
refweb's own, no framing -- and then the connection is closed, which is
what tells the client where the response ends.

Start reading at ``ASISProcessor.render``.
"""

import os
import re

from refweb import error, resource
from refweb.server import NOT_DONE_YET


class ASISProcessor(resource.Resource):
    """Sends a file that holds a whole HTTP response, status line and
    headers included, exactly as it is on disk (guide: "As-Is Serving").

    Nothing is added, so the response has no framing refweb could vouch
    for: the connection is closed after it, which ends the body for every
    client (RFC 9112 §6.3, rule 8).  HEAD gets the status line and headers.
    """

    isLeaf = True
    maxHeadSize = 65536  # the status line and headers must fit in this
    listingType = "as-is HTTP response"  # a directory listing's Type column

    def __init__(self, path, registry=None):
        super().__init__()
        self.path = path
        self.registry = registry

    def render(self, request):
        from refweb.static import File  # here: static imports this module
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

    ``startRawResponse`` keeps refweb from sending a head of its own (as
    Twisted's marking the request as started does), and tells the
    connection that only its close can end this body.
    """
    request.setResponseCode(status[0], status[1] or None)  # for the access log
    request.startRawResponse()
    request.writeFile(fileobj, 0, count)
    request.finish()
