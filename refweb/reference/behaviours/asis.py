"""As-is files: ASISProcessor sends a file holding its own status line and headers
(guide: "As-Is Serving")."""

from refweb.reference.suite import behaviour, equal

ASIS = 'guide, "As-Is Serving"'


@behaviour("asis", "asis", ASIS)
def asis_body(server):
    """The guide's hello.asis is sent as it is: its body after its blank line."""
    response = server.get("/hello.asis", version="HTTP/1.0")
    equal((response.status, response.body), (200, b"Hello world\n"), "status and body")


@behaviour("asis", "asis", ASIS)
def asis_headers(server):
    """The file's own Content-Type is the response's."""
    equal(server.get("/hello.asis", version="HTTP/1.0").header("content-type"), "text/html",
          "Content-Type")


@behaviour("asis", "asis", ASIS)
def asis_status(server):
    """The file's status line sets the status: gone.asis says 404."""
    response = server.get("/gone.asis", version="HTTP/1.0")
    equal((response.status, response.header("x-asis")), (404, "yes"), "status and X-Asis")
    equal(response.body, b"not here, as is\n", "body")


@behaviour("asis", "asis", ASIS)
def asis_on_http11(server):
    """Asked for with HTTP/1.1, the as-is response still arrives whole."""
    equal(server.get("/hello.asis").body, b"Hello world\n", "body")
