# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python doc_child.py
"""A folder as the root, with one more folder hung on it at /doc."""
import os

from refweb import server, static
from refweb.internet import reactor

root = static.File("htdocs")
root.putChild("doc", static.File("manuals"))  # wins over any htdocs/doc on disk
port = int(os.environ.get("PORT", "8080"))  # 8080 unless PORT says otherwise
reactor.listenTCP(port, server.Site(root), interface="127.0.0.1")  # this machine only
reactor.run()
