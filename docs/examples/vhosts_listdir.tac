# No list of hosts to keep up to date: each folder in sites/ is a host.
# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -ny vhosts_listdir.tac
import os

from refweb import server, static, vhost
from refweb.application import internet, service

root = vhost.NameVirtualHost()
root.default = static.File("htdocs")
for dir in os.listdir("sites"):
    root.addHost(dir, static.File(os.path.join("sites", dir)))

application = service.Application('web')
sc = service.IServiceCollection(application)
site = server.Site(root)
i = internet.TCPServer(int(os.environ.get("PORT", "8080")), site,
                       interface="127.0.0.1")
i.setServiceParent(sc)
