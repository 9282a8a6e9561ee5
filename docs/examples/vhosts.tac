# One port, several sites, chosen by the Host header.
# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -ny vhosts.tac
import os

from refweb import script, server, static, vhost
from refweb.application import internet, service

root = vhost.NameVirtualHost()
# The default site, for any other name
root.default = static.File("htdocs")
# A simple virtual host -- foo.com
root.addHost("foo.com", static.File("sites/foo.com"))
# A simple virtual host -- bar.com
root.addHost("bar.com", static.File("sites/bar.com"))
# The "baz" people want to use resource scripts in their web site
baz = static.File("sites/baz")
baz.processors = {'.rpy': script.ResourceScript}
baz.ignoreExt('.rpy')
root.addHost('baz', baz)

application = service.Application('web')
sc = service.IServiceCollection(application)
site = server.Site(root)
i = internet.TCPServer(int(os.environ.get("PORT", "8080")), site,
                       interface="127.0.0.1")
i.setServiceParent(sc)
