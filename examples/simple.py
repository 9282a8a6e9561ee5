"""The guide's Simple site ("Site Objects"), with refweb in place of Twisted.

Run it:  python examples/simple.py   then open http://localhost:8080/
"""
from refweb import server, resource
from refweb.internet import reactor


class Simple(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return "<html>Hello, world!</html>"


site = server.Site(Simple())
reactor.listenTCP(8080, site)
reactor.run()
