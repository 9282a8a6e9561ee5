"""refweb: the Twisted Web server of the guide, rebuilt on threads for reading.

A request's journey, in ten lines: the module (and function) for each step.

    internet.selectorloop               accepts the socket, holds it until a head has come
    http.HTTPChannel                    in a worker thread: reads the head and the body
    wire                                parses those bytes (no sockets in there)
    http_request.Request.requestReceived  takes the parsed request: method, target, args
    server.Request.process              splits the path into segments
    server.Site.getResourceFor          starts the walk at the Site's root resource
    resource.getChildForRequest         walks the resource tree, segment by segment
    resource.Resource.render            calls render_GET / render_POST / ...
    server.Request.render               turns what render returned into the response
    http_request.Request.write, finish  frame the response, send it, log it

Guide: "Site Objects" and "Resource Objects" follow this path from the
outside; docs/internals/design.rst follows it step by step.

Start reading at server.Request.process.
"""

__version__ = "0.1.0"
version = __version__
