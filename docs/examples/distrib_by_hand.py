# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python distrib_by_hand.py
"""Both halves of a spreadable server in one process, without the command.

The personal half publishes a Site on a UNIX socket; the user half mounts
that socket at /alice.refweb/ with a ResourceSubscription.
"""
import os
import tempfile

from refweb import distrib, resource, server, static
from refweb.internet import reactor

socketPath = os.path.join(tempfile.mkdtemp(), "alice-web-pb")

# Alice's personal server: her own Site, published on the socket.
alicesSite = server.Site(static.File("htdocs"))
reactor.listenUNIX(socketPath, distrib.ResourcePublisher(alicesSite), mode=0o600)

# The user server: the public port; /alice.refweb/ relays to Alice's server.
front = resource.Resource()
front.putChild("alice.refweb", distrib.ResourceSubscription(socketPath))
port = int(os.environ.get("PORT", "8080"))  # 8080 unless PORT says otherwise
reactor.listenTCP(port, server.Site(front), interface="127.0.0.1")  # this machine only
reactor.run()
