# -*- test-case-name: tests.test_script -*-
"""The registry: state shared by every resource script of one site.

Guide: "Resource Scripts" (a ``.rpy`` sees the name ``registry``; the
guide's counter keeps its count with ``registry.getComponent`` and
``registry.setComponent``).

Where it sits in a request's journey: a ``static.File`` tree holds one
``Registry`` and hands it to each processor it calls
(``processor(path, registry)``), so every ``.rpy`` below the tree, run afresh
on each request, finds what earlier requests left there.  The site's
connection threads share it, so every method takes a lock.

Start reading at ``Registry.getComponent``.
"""

import threading


class Registry:
    """Shared state for one tree of Files and the scripts under it.

    The guide's counter script calls ``registry.getComponent(Counter)`` and
    expects ``None`` until something was set, for any key.
    """

    def __init__(self):
        self._components = {}
        self._paths = {}
        self._lock = threading.Lock()  # guards _components and _paths (scripts run in many threads)

    def getComponent(self, key, default=None):
        with self._lock:
            return self._components.get(key, default)

    def setComponent(self, key, value):
        with self._lock:
            self._components[key] = value

    def removeComponent(self, key):
        with self._lock:
            return self._components.pop(key, None)

    def cachePath(self, path, rsrc):
        """Keep a script's resource (``cache()`` in a .rpy)."""
        with self._lock:
            self._paths[path] = rsrc

    def getCachedPath(self, path):
        with self._lock:
            return self._paths.get(path)

    def uncachePath(self, path):
        with self._lock:
            self._paths.pop(path, None)
