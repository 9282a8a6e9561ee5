# The Hello tree of hello_tree.py, as an application.
# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -ny hello.tac
import os

from refweb import server
from refweb.application import internet, service

from hello_tree import root  # a .tac's own folder is on sys.path

application = service.Application('hello')
site = server.Site(root)
i = internet.TCPServer(int(os.environ.get("PORT", "8080")), site,
                       interface="127.0.0.1")
i.setServiceParent(application)
