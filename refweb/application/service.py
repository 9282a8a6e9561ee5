# -*- test-case-name: tests.test_service -*-
"""Services: the things a long-running server starts and stops.

Guide: "Advanced Configuration" -- a .tac file builds
``application = service.Application('web')`` and hangs services such as
``internet.TCPServer(80, site)`` on it with ``setServiceParent`` (or
``IServiceCollection(application).addService``; the guide also writes
``addCollection``, which refweb accepts as the same thing).

Journey: ``refweb -y app.tac`` -> application.app.loadApplication (finds
``application``) -> ``startService()`` here, which starts every child in the
order they were added -> each internet.TCPServer calls reactor.listenTCP.
On shutdown ``stopService()`` stops the children in reverse order.

Twisted finds a service inside an application through zope.interface
adapters.  refweb keeps the same spelling, ``IService(application)`` and
``IServiceCollection(application)``, but they are plain functions: an
Application *is* a MultiService, so both return it unchanged.

Start reading at ``MultiService``.
"""

from refweb.python import log

_NO_DEFAULT = object()


class Service:
    """Something that can be started and stopped, and may have a parent.

    Subclasses override ``startService`` / ``stopService`` (calling these
    versions so ``running`` stays true) and, for work that needs privileges
    such as binding port 80, ``privilegedStartService``.
    """

    name = None
    parent = None
    running = False

    def setName(self, name):
        """Name this service, so its parent's getServiceNamed can find it."""
        if self.parent is not None:
            raise RuntimeError("cannot rename %r while it has a parent" % (self,))
        self.name = name

    def setServiceParent(self, parent):
        """Become a child of ``parent`` (an Application or MultiService)."""
        if self.parent is not None:
            self.disownServiceParent()
        IServiceCollection(parent).addService(self)

    def disownServiceParent(self):
        """Leave the parent (stopping first if the parent is running)."""
        parent, self.parent = self.parent, None
        if parent is not None:
            parent.removeService(self)

    def privilegedStartService(self):
        """Work to do before privileges are dropped (none by default)."""

    def startService(self):
        self.running = True

    def stopService(self):
        self.running = False

    def __repr__(self):
        label = " %r" % (self.name,) if self.name else ""
        return "<%s%s>" % (type(self).__name__, label)


class MultiService(Service):
    """A service made of services: starting it starts each child, in order."""

    def __init__(self):
        self.services = []
        self.namedServices = {}

    def __iter__(self):
        return iter(list(self.services))

    def __len__(self):
        return len(self.services)

    def getServiceNamed(self, name):
        """The child called ``name``; KeyError if there is none."""
        return self.namedServices[name]

    def addService(self, service):
        """Adopt ``service``; if we are already running, start it now."""
        if service.name is not None:
            if service.name in self.namedServices:
                raise RuntimeError("%r already has a service named %r" % (self, service.name))
            self.namedServices[service.name] = service
        if service.parent is not None and service.parent is not self:
            service.disownServiceParent()
        service.parent = self  # Twisted leaves this to setServiceParent; both work here
        self.services.append(service)
        if self.running:
            service.privilegedStartService()
            service.startService()

    # The guide's "ports" example writes serviceCollection.addCollection(...).
    addCollection = addService

    def removeService(self, service):
        """Forget ``service``, stopping it if we are running."""
        if service.name is not None:
            self.namedServices.pop(service.name, None)
        self.services.remove(service)
        service.parent = None
        if self.running:
            service.stopService()

    def privilegedStartService(self):
        Service.privilegedStartService(self)
        for service in self:
            service.privilegedStartService()

    def startService(self):
        Service.startService(self)
        for service in self:
            service.startService()

    def stopService(self):
        """Stop the children newest first; one failing does not stop the rest."""
        Service.stopService(self)
        for service in reversed(list(self)):
            try:
                service.stopService()
            except Exception:
                log.err(None, "Error stopping %r:" % (service,))


class Application(MultiService):
    """The root service a .tac file must name ``application``.

    ``uid`` and ``gid``: when refweb runs as root it switches to these after
    the ports are bound (so port 80 works without serving as root).
    """

    def __init__(self, name, uid=None, gid=None):
        MultiService.__init__(self)
        self.name = name
        self.uid = uid
        self.gid = gid

    def __repr__(self):
        return "<Application %r>" % (self.name,)


def _adapt(obj, method, what, default):
    if hasattr(obj, method):
        return obj
    if default is not _NO_DEFAULT:
        return default
    raise TypeError("%r is not %s (it has no %s method)" % (obj, what, method))


def IService(obj, default=_NO_DEFAULT):
    """The service to start and stop for ``obj`` (an Application is one)."""
    return _adapt(obj, "startService", "a service", default)


def IServiceCollection(obj, default=_NO_DEFAULT):
    """The collection to add services to for ``obj`` (an Application is one)."""
    return _adapt(obj, "addService", "a service collection", default)
