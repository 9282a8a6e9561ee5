# A WSGI application as the root resource.
# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -ny wsgi_hello.tac
import os

from refweb import server
from refweb.application import service, strports
from refweb.internet import reactor
from refweb.python.threadpool import ThreadPool
from refweb.wsgi import WSGIResource

# Create and start a thread pool,
wsgiThreadPool = ThreadPool()
wsgiThreadPool.start()
# ensuring that it will be stopped when the reactor shuts down
reactor.addSystemEventTrigger('after', 'shutdown', wsgiThreadPool.stop)


def application(environ, start_response):
    """A basic WSGI application"""
    start_response('200 OK', [('Content-type', 'text/plain')])
    return [b'Hello World!']


# Create the WSGI resource
wsgiAppAsResource = WSGIResource(reactor, wsgiThreadPool, application)

# Hooks for refweb -y
application = service.Application('refweb.wsgi Hello World Example')
server = strports.service('tcp:%s:interface=127.0.0.1' % os.environ.get("PORT", "8080"),
                          server.Site(wsgiAppAsResource))
server.setServiceParent(application)
