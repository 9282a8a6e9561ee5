"""refweb: the Twisted Web server of the guide, rebuilt on threads for reading.

A request's journey, and the module that handles each step:

    internet.selectorloop     accepts the socket, holds it while it waits
    internet.workers          a worker thread takes it once a head has come
    http.HTTPChannel          reads request heads and bodies off the socket
    wire                      parses those bytes (no sockets in there)
    server.Request.process    splits the path into segments
    resource.getChildForRequest  walks the resource tree, segment by segment
    resource.Resource.render  calls render_GET / render_POST / ...
    http.Request.write/finish frames the response and sends it

Start reading at server.Request.process.
"""

__version__ = "0.1.0"
version = __version__
