"""Resource scripts (.rpy) (guide: ".rpy scripts", "Resource Scripts").

Site ``scripts``: static.File over fixture/scripts with ``.rpy`` processed
by ResourceScript (the guide's configuration).
"""

import os
import time

from refweb.reference.suite import behaviour, check, equal

RPY = 'guide, "Resource Scripts"'


@behaviour("rpy", "scripts", RPY)
def rpy_resource_rendered(server):
    """The .rpy's `resource` renders the request."""
    equal(server.get("/hello.rpy").body, b"<html>foo</html>", "body")


@behaviour("rpy", "scripts", RPY)
def rpy_source_not_shown(server):
    """The script's Python source is never sent to the client."""
    body = server.get("/hello.rpy").body
    check(b"import" not in body and b"resource =" not in body, "the source was served")


@behaviour("rpy", "scripts", RPY)
def rpy_registry_persists(server):
    """registry keeps state between runs of the script: the guide's counter counts 1, 2, 3."""
    bodies = [server.get("/counter.rpy").body for _ in range(3)]
    equal(bodies, [b"you are visitor 1", b"you are visitor 2", b"you are visitor 3"], "bodies")


@behaviour("rpy", "scripts", 'guide, ".rpy scripts"')
def rpy_reexecuted_after_edit(server):
    """An .rpy is run again on each request, so an edit shows on the next refresh."""
    equal(server.get("/edited.rpy").body, b"version 1", "body before the edit")
    path = os.path.join(server.root, "scripts", "edited.rpy")
    with open(path, encoding="utf-8") as f:
        source = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(source.replace("version 1", "version 2"))
    later = time.time() + 5  # a new mtime, in case a server caches by it
    os.utime(path, (later, later))
    equal(server.get("/edited.rpy").body, b"version 2", "body after the edit")


@behaviour("rpy", "scripts", RPY)
def rpy_children_walked(server):
    """Segments after the script go to its resource's children: /children.rpy/kid."""
    response = server.get("/children.rpy/kid")
    equal((response.status, response.body), (200, b"a child of the script"), "status and body")


@behaviour("rpy", "scripts", RPY)
def rpy_failure_is_500(server):
    """A script that raises while it runs is a 500, and the server goes on."""
    equal(server.get("/broken.rpy").status, 500, "status of broken.rpy")
    equal(server.get("/hello.rpy").status, 200, "status of the next script")


@behaviour("rpy", "scripts", RPY)
def rpy_without_resource_is_error(server):
    """A script that does not set `resource` cannot render: an error status (5xx), no page."""
    status = server.get("/noresource.rpy").status
    check(500 <= status < 600, "status %d for a script with no resource" % status)
