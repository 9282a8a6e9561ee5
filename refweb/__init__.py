"""refweb: the Twisted Web server of the guide, rebuilt on threads for reading.

A request's journey, in ten lines: the module (and function) for each step.

    internet.selectorloop               accepts the socket, holds it while it waits
    http.HTTPChannel                    moves bytes between the socket and the connection
    http11.ServerConnection.receive     finds the head (once), then the body, by its framing
    http_request.Request.requestReceived  takes what was asked: method, target, args
    server.Request.process              splits the path into segments
    server.Site.getResourceFor          starts the walk at the Site's root resource
    resource.getChildForRequest         walks the resource tree, segment by segment
    resource.Resource.render            calls render_GET / render_POST / ...
    http_response.Response.write, finish  the response, through the channel's contract
    http11.ServerConnection.endResponse  frames the end; keep the connection or close it

Guide: "Site Objects" and "Resource Objects" follow this path from the
outside; docs/internals/design.rst follows it step by step.

Start reading at server.Request.process.
"""

__version__ = "0.1.0"
version = __version__
