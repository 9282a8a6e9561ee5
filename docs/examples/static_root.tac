# A .tac file: Python that builds `application`.
# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -ny static_root.tac
import os

from refweb import server, static
from refweb.application import internet, service

root = static.File("htdocs")  # a folder, relative to where refweb runs
application = service.Application('web')
site = server.Site(root)
sc = service.IServiceCollection(application)
i = internet.TCPServer(int(os.environ.get("PORT", "8080")), site,
                       interface="127.0.0.1")
i.setServiceParent(sc)  # nothing listens until the application starts
