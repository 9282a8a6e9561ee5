# -*- test-case-name: tests.test_strports -*-
"""Services and ports from a description string: ``strports.service('tcp:8080', site)``.

Guide: "Serving WSGI Applications" -- the .tac there ends with
``server = strports.service('tcp:8080', server.Site(wsgiAppAsResource))``.

Journey: a description -> refweb.internet.endpoints.parse (text only) ->
the matching service of refweb.application.internet, which listens when the
application starts.  ``listen`` skips the service and listens at once.

Descriptions: ``tcp:PORT[:interface=ADDR][:backlog=N]`` (a bare ``8080``
means tcp), ``unix:PATH[:mode=0660][:wantPID=1]``,
``ssl:PORT:privateKey=KEY[:certKey=CERT][:interface=ADDR]``.  A bad one
raises endpoints.BadDescription naming the text and what was expected.

Start reading at ``service``.
"""

from refweb.application import internet
from refweb.internet import endpoints


def service(description, factory, reactor=None):
    """A service that listens on ``description`` with ``factory`` once started."""
    kind, args, kw = endpoints.parse(description)
    if reactor is not None:
        kw["reactor"] = reactor
    if kind == "TCP":
        return internet.TCPServer(args[0], factory, **kw)
    if kind == "UNIX":
        return internet.UNIXServer(args[0], factory, **kw)
    # load the certificate now, so a missing file is reported with the
    # configuration rather than when the server starts
    context = endpoints.sslContext(kw.pop("privateKey"), kw.pop("certKey"))
    return internet.SSLServer(args[0], factory, context, **kw)


def listen(description, factory, reactor=None):
    """Listen on ``description`` now; return the port (``stopListening()`` it)."""
    return endpoints.listen(description, factory, reactor)

