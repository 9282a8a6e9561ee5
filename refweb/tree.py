# -*- test-case-name: tests.test_service -*-
"""``refweb tree FILE.tac``: the resource tree a .tac would serve, unserved.

Guide: "Advanced Configuration" (the .tac file) and "Resource Trees"; the
``tree`` command is refweb's own, for learners (twistd has none).

Where it sits: refweb.runner hands it the rest of the command line after
``tree``; it loads the .tac (refweb.application.app), starts nothing, finds
every listening service's Site, and returns ``resource.describe()`` of each
as text to print.  Start reading at ``treeText``.
"""

import os

from refweb.options import UsageError

TREE_HELP = """Usage: refweb tree FILE.tac

Load FILE.tac, start nothing, and print the resource tree (as
refweb.resource.describe shows it) of each site its services would serve.
"""


def treeText(argv):
    """``refweb tree FILE.tac`` -> the describe() text of every site the .tac serves."""
    if argv[:1] in (["--help"], ["-h"]):
        return TREE_HELP
    if len(argv) != 1 or argv[0].startswith("-"):
        raise UsageError("refweb tree", "give exactly one .tac file")
    from refweb.application import app, service
    from refweb.resource import describe
    try:
        application = app.loadApplication(os.path.abspath(argv[0]))
    except app.ApplicationError as exc:
        raise UsageError("refweb tree", "cannot load application: %s" % (exc,)) from None
    sections, seen = [], set()
    for child in _allServices(service.IService(application)):
        site = _siteServedBy(child)
        if site is None or id(site.resource) in seen:
            continue  # one tree per site, however many ports serve it
        seen.add(id(site.resource))
        sections.append("%s(%r):\n%s" % (type(child).__name__, child.args[0],
                                          describe(site.resource, write=lambda text: None)))
    if not sections:
        raise UsageError("refweb tree", "%s has no service that serves a Site" % (argv[0],))
    return "\n\n".join(sections) + "\n"


def _allServices(parent):
    yield parent
    for child in getattr(parent, "services", ()):
        yield from _allServices(child)


def _siteServedBy(service):
    """The Site a listening service was given (also inside a ResourcePublisher), or None."""
    args = getattr(service, "args", ())
    factory = getattr(service, "kwargs", {}).get("factory", args[1] if len(args) > 1 else None)
    factory = getattr(factory, "site", factory)  # distrib.ResourcePublisher(site)
    if hasattr(factory, "resource") and hasattr(factory, "buildProtocol"):
        return factory
    return None
