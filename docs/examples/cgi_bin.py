# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python cgi_bin.py
"""A folder as the root, and a folder of CGI programs at /cgi-bin."""
import os

from refweb import server, static, twcgi
from refweb.internet import reactor

root = static.File("htdocs")
root.putChild("cgi-bin", twcgi.CGIDirectory("cgi-bin"))
port = int(os.environ.get("PORT", "8080"))  # 8080 unless PORT says otherwise
reactor.listenTCP(port, server.Site(root), interface="127.0.0.1")  # this machine only
reactor.run()
