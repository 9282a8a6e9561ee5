# -*- test-case-name: tests.test_service -*-
"""Loading a .tac file and starting the application it defines.

Guide: "Advanced Configuration" -- "a Python snippet which builds up a
variable called application ... The resulting file can then be run with
twistd -y."  Here: ``refweb -y app.tac`` (daemon) or ``refweb -ny app.tac``.

Journey: refweb.runner -> ``loadApplication(path)`` (run the file, find
``application``) -> ``startApplication(application)`` (bind the ports, drop
root, start the services, stop them again at reactor shutdown).

A .tac is ordinary Python run with ``__file__`` set and its own folder first
on ``sys.path`` (so it can import modules that sit beside it).  Whatever goes
wrong while loading it becomes one ApplicationError whose message is a
single line naming the file and, where there is one, the line.

Start reading at ``loadApplication``.
"""

import builtins
import os
import sys

from refweb.application.service import IService
from refweb.options import whereItFailed
from refweb.process import dropPrivileges
from refweb.python.reflect import describeKind


class ApplicationError(Exception):
    """A .tac file that did not give us an application (message: one line).

    ``original`` is the exception the file raised, if it raised one (its
    traceback is what ``refweb --traceback`` prints)."""

    def __init__(self, message, original=None):
        super().__init__(message)
        self.original = original


def _compile(path):
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        raise ApplicationError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    try:
        return compile(source, path, "exec")
    except SyntaxError as exc:
        raise ApplicationError(whereItFailed(exc), exc) from None


def _execute(code, path):
    namespace = {"__file__": path, "__name__": "__refweb_tac__",
                 "__builtins__": builtins}
    folder = os.path.dirname(path)
    if not sys.path or sys.path[0] != folder:
        sys.path.insert(0, folder)
    try:
        exec(code, namespace)
    except SystemExit:
        raise ApplicationError("%s called sys.exit() while loading" % (path,)) from None
    except Exception as exc:
        raise ApplicationError(whereItFailed(exc), exc) from None
    return namespace


def loadApplication(path):
    """Run the .tac at ``path`` and return its ``application``."""
    path = os.path.abspath(path)
    namespace = _execute(_compile(path), path)
    if "application" not in namespace:
        raise ApplicationError(
            "%s does not define 'application' (a .tac file must end with "
            "something like application = service.Application('web'))" % (path,))
    application = namespace["application"]
    if IService(application, None) is None:
        raise ApplicationError("%s: 'application' is %s, not a service.Application"
                               % (path, describeKind(application)))
    return application


def _dropPrivileges(application, euid=False):
    """As root, switch to the Application's gid and uid once ports are bound
    (``refweb -u/-g`` set them; ``--euid`` keeps the real ids).  How is
    refweb.process's business: the one place that changes ids."""
    dropPrivileges(getattr(application, "uid", None), getattr(application, "gid", None),
                   euid=euid)


def startApplication(application, reactor=None, euid=False):
    """Start ``application``: bind (while privileged), drop root, start.

    The services are stopped again when the reactor shuts down.  If starting
    fails half way (a port in use, say) whatever did start is stopped, and
    the error goes to the caller.
    """
    if reactor is None:
        from refweb.internet import reactor
    service = IService(application)
    try:
        service.privilegedStartService()
        _dropPrivileges(application, euid)
        service.startService()
    except BaseException:
        stopApplication(application)
        raise
    reactor.addSystemEventTrigger("before", "shutdown", stopApplication, application)


def stopApplication(application):
    """Stop ``application``'s services (safe to call more than once)."""
    service = IService(application)
    if service.running or any(getattr(s, "_port", None) for s in _walk(service)):
        service.stopService()


def _walk(service):
    yield service
    for child in getattr(service, "services", ()):
        yield from _walk(child)
