# -*- test-case-name: tests.test_script -*-
"""Resource scripts: ``.rpy`` files run on every request.

Guide: ".rpy scripts" and "Resource Scripts".  "Files with the extension
.rpy are python scripts which, when placed in a directory served by Twisted
Web, will be executed when visited through the web.  An .rpy script must
define a variable, resource."

Where it sits in a request's journey: a ``static.File`` whose
``processors`` map ``.rpy`` to ``ResourceScript`` calls
``ResourceScript(path, registry)`` while walking the URL.  The script is
read, compiled and executed right then, once per request, so an edit shows
on the next request; the ``resource`` it defines is returned and the walk
goes on into it (``/perl.rpy/other.pl`` reaches the File that ``perl.rpy``
defines).  A script sees three special names, as the guide lists them::

    __file__  the script's full path;
    registry  the static.Registry shared by every script of the tree
              (state that must outlive one request lives there);
    resource  what the script must set.

Modules beside the script can be imported by it, wherever the server was
started: the script's folder is added at the end of ``sys.path``.

A script that fails to compile, raises, or sets no resource is answered as
a failing render method is: the same 500 page, with no word of the problem;
its traceback goes to the log, and to the page only when the site was built
with ``displayTracebacks=True`` (``refweb web --display-tracebacks``).

Start reading at ``ResourceScript``, then ``runScript``.
"""

import os
import sys

from refweb import error, resource, static
from refweb.python import log
from refweb.python.failure import Failure
from refweb.python.reflect import describeKind

MAX_SCRIPT_SIZE = 4 * 1024 * 1024  # a script larger than this is not read


class AlreadyCached(Exception):
    """Raised by ``cache()`` in a script whose resource is already kept."""

    def __init__(self, rsrc):
        super().__init__(rsrc)
        self.resource = rsrc


class ScriptError(Exception):
    """A script ran but left nothing usable in ``resource``."""


class _NoResource:
    """Placeholder for ``resource`` until the script sets it."""


class ScriptErrorPage(resource.Resource):
    """The 500 answer for a script that could not give a resource.

    It is the very answer a failing render method gets (``server.Request.
    processingFailed``): the same page, saying nothing of the problem unless
    the site shows tracebacks.  An exception's text can hold anything (a
    path, a password in a connection string), so it goes to the log only.
    """

    isLeaf = True

    def __init__(self, path, failure):
        super().__init__()
        self.path = path
        self.failure = failure

    def render(self, request):
        detail = "An error occurred while processing this request."
        site = getattr(request, "site", None)
        if getattr(site, "displayTracebacks", False):
            detail = self.failure.getTraceback()
        # Raised, not rendered here: Request.render turns it into the page.
        raise error.InternalServerError(detail=detail)


def _readSource(path):
    with open(path, "rb") as f:
        source = f.read(MAX_SCRIPT_SIZE + 1)
    if len(source) > MAX_SCRIPT_SIZE:
        raise ScriptError("the script is larger than %d bytes" % MAX_SCRIPT_SIZE)
    return source


def _cacheFunctions(path, registry):
    """``cache()`` and ``recache()``, which Twisted gives scripts: a script
    that calls ``cache()`` first is run once and its resource kept."""
    state = {"cache": False}

    def cache():
        kept = registry.getCachedPath(path)
        if kept is not None:
            raise AlreadyCached(kept)
        state["cache"] = True

    def recache():
        registry.uncachePath(path)
        state["cache"] = False

    return state, cache, recache


def _importBeside(path):
    """Let a script import the modules that sit beside it, wherever the server
    was started (as a .tac can).  The folder goes at the *end* of sys.path,
    so a file in it can never hide a module importable from elsewhere."""
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.append(folder)


def runScript(path, registry):
    """Execute the script at ``path`` and return the resource it sets.

    Raises whatever the script raises, or ScriptError if it sets no resource.
    """
    path = os.path.abspath(path)
    state, cache, recache = _cacheFunctions(path, registry)
    namespace = {
        "__file__": path,
        "__name__": "__rpy__",  # not "__main__": a script's own main block stays quiet
        "__builtins__": __builtins__,
        "registry": registry,
        "resource": _NoResource,
        "cache": cache,
        "recache": recache,
    }
    code = compile(_readSource(path), path, "exec")
    _importBeside(path)
    try:
        exec(code, namespace)
    except AlreadyCached as kept:
        return kept.resource
    rsrc = namespace.get("resource")
    if rsrc is _NoResource:
        raise ScriptError("the script does not set 'resource'")
    if not hasattr(rsrc, "render") or not hasattr(rsrc, "getChildWithDefault"):
        raise ScriptError("'resource' is %s, not a Resource" % (describeKind(rsrc),))
    if state["cache"]:
        registry.cachePath(path, rsrc)
    return rsrc


def ResourceScript(path, registry):
    """The resource an ``.rpy`` script defines, freshly executed; a 500 page
    if it cannot give one.  The signature of every ``File.processors``
    factory: ``(path, registry) -> resource``."""
    try:
        return runScript(path, registry)
    except Exception:
        failure = Failure()
        log.err(failure, "Resource script %s failed:" % path)
        return ScriptErrorPage(path, failure)


ResourceScript.listingType = "resource script"  # a directory listing's Type column


class ResourceScriptWrapper(resource.Resource):
    """A resource that runs one script per request and lets the script's
    resource handle it, wherever the wrapper stands (``refweb web
    --resource-script FILE`` makes one the site's root)."""

    def __init__(self, path, registry=None):
        super().__init__()
        self.path = path
        self.registry = registry if registry is not None else static.Registry()

    def render(self, request):
        return ResourceScript(self.path, self.registry).render(request)

    def getChildWithDefault(self, name, request):
        rsrc = ResourceScript(self.path, self.registry)
        if getattr(rsrc, "isLeaf", False):
            # The walk already moved ``name`` to prepath; a leaf handles the
            # rest of the URL itself, so put the segment back.
            if request.prepath and request.prepath[-1] == name:
                request.postpath.insert(0, request.prepath.pop())
            return rsrc
        return rsrc.getChildWithDefault(name, request)


class ResourceScriptDirectory(resource.Resource):
    """A folder in which every file is a resource script: ``/a`` runs ``a``,
    ``/sub/b`` runs ``sub/b``.  The folder itself has no page (404)."""

    def __init__(self, path, registry=None):
        super().__init__()
        self.path = os.path.abspath(path)
        self.root = os.path.realpath(self.path)
        self.registry = registry if registry is not None else static.Registry()

    def getChild(self, name, request):
        if not name or static._badSegment(name) or name.startswith("."):
            return resource.NoResource("No such resource script.")
        path = os.path.join(self.path, name)
        if not static._inside(self.root, path):
            return resource.NoResource("No such resource script.")
        if os.path.isdir(path):
            child = ResourceScriptDirectory(path, self.registry)
            child.root = self.root
            return child
        if os.path.isfile(path):
            return ResourceScript(path, self.registry)
        return resource.NoResource("No such resource script.")

    def render(self, request):
        return resource.NoResource("No such resource script.").render(request)
