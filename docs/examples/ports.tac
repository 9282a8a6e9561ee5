# One site on every port listed in the file `ports` (numbers, any spacing).
# Run it from docs/examples/ (it listens on 127.0.0.1, on the ports in `ports`):
#   python -m refweb -ny ports.tac
from refweb import server, static
from refweb.application import internet, service

root = static.File("htdocs")
site = server.Site(root)
application = service.Application('web')
serviceCollection = service.IServiceCollection(application)
for num in map(int, open("ports").read().split()):
    serviceCollection.addService(internet.TCPServer(num, site, interface="127.0.0.1"))
