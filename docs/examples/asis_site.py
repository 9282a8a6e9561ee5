# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python asis_site.py
"""Serve ./htdocs, sending .asis files as complete, ready-made responses."""
import os

from refweb import server, static
from refweb.internet import reactor

root = static.File("htdocs")
root.processors = {".asis": static.ASISProcessor}
port = int(os.environ.get("PORT", "8080"))  # 8080 unless PORT says otherwise
reactor.listenTCP(port, server.Site(root), interface="127.0.0.1")  # this machine only
reactor.run()
