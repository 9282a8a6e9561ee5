# Run it from docs/examples/ (it prints what the page shows):
#   python trace_hello.py
"""Serve the Hello tree with trace=True and print how /fred/ was found."""
import http.client

from refweb import server
from refweb.internet import reactor
from refweb.python import log

from hello_tree import root

lines = []
log.addObserver(lines.append)  # collect log lines instead of printing them

port = reactor.listenTCP(0, server.Site(root, trace=True), interface="127.0.0.1")
connection = http.client.HTTPConnection("127.0.0.1", port.getHost().port)
connection.request("GET", "/fred/")
print(connection.getresponse().read().decode())
connection.close()
port.stopListening()

for line in lines:
    if line.startswith("trace:"):
        print(line)
