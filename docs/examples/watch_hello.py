# Run it from docs/examples/ (it prints what the page shows):
#   python watch_hello.py
"""Watch one request go by: the raw heads (wire=True) and the walk (trace=True)."""
import socket

from refweb import server
from refweb.internet import reactor
from refweb.python import log

from hello_tree import root

lines = []
log.addObserver(lines.append)

site = server.Site(root, trace=True, wire=True)
port = reactor.listenTCP(0, site, interface="127.0.0.1")
with socket.create_connection(("127.0.0.1", port.getHost().port)) as sock:
    sock.sendall(b"GET /fred/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
    while sock.recv(65536):
        pass  # read until the server closes
port.stopListening()

for line in lines:
    if line.startswith(("wire", "trace")):  # skip the access-log line
        print(line)
