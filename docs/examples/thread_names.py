# Run it from docs/examples/ (it prints what the page shows):
#   python thread_names.py
"""Which thread does what: print the thread's name at each step."""
import http.client
import threading
import time

from refweb import server
from refweb.internet import reactor
from refweb.resource import Resource

seen = []


def note(step):
    seen.append("%-28s in %s" % (step, threading.current_thread().name))


class Later(Resource):
    isLeaf = True

    def render_GET(self, request):
        note("render_GET")
        reactor.callLater(0.1, self.finish, request)
        return server.NOT_DONE_YET

    def finish(self, request):
        note("the callLater'd finish")
        request.write(b"done\n")
        request.finish()


note("the script itself")
port = reactor.listenTCP(0, server.Site(Later()), interface="127.0.0.1")
note("after listenTCP")  # no run() needed: the port already serves
connection = http.client.HTTPConnection("127.0.0.1", port.getHost().port)
connection.request("GET", "/")
body = connection.getresponse().read()
connection.close()
port.stopListening()
reactor.callInThread(note, "callInThread")
time.sleep(0.2)
print("\n".join(seen))
print(body)
