# /clock is answered by clock.rpy: the extension stays hidden from users.
# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -ny ignore_ext.tac
import os

from refweb import script, server, static
from refweb.application import internet, service

root = static.File("rpysite")
root.ignoreExt(".rpy")
root.processors = {'.rpy': script.ResourceScript}
application = service.Application('web')
sc = service.IServiceCollection(application)
site = server.Site(root)
i = internet.TCPServer(int(os.environ.get("PORT", "8080")), site,
                       interface="127.0.0.1")
i.setServiceParent(sc)
