"""The web command: ``refweb web`` / ``twistd web`` (guide: "Running a Twisted Web Server").

Site ``web-path`` is ``web --path ROOT``; site ``web-wsgi`` is
``web --wsgi=wsgiapp.application`` (the guide's helloworld, fixture/wsgiapp.py).
"""

from refweb.reference.suite import behaviour, check, equal

RUNNING = 'guide, "Running a Twisted Web Server"'


@behaviour("web", "web-path", RUNNING)
def path_serves_index(server):
    """web --path DIR serves DIR's index.html at /."""
    response = server.get("/")
    equal((response.status, response.body),
          (200, b"<html><body>Reference index</body></html>\n"), "status and body")


@behaviour("web", "web-path", RUNNING)
def path_serves_files(server):
    """web --path DIR serves DIR's files."""
    equal(server.get("/hello.txt").body, b"Hello, static world!\n", "body")


@behaviour("web", "web-path", RUNNING)
def path_lists_folders(server):
    """A folder with no index is listed."""
    check(b"a.txt" in server.get("/sub/").body, "the listing of /sub/ does not name a.txt")


@behaviour("web", "web-path", 'guide, "Using VHostMonster" ("twistd web --path ... is so configured")')
def path_runs_rpy(server):
    """web --path processes .rpy files: /scripts/hello.rpy is run."""
    equal(server.get("/scripts/hello.rpy").body, b"<html>foo</html>", "body")


@behaviour("web", "web-path", RUNNING)
def path_runs_cgi(server):
    """web --path processes .cgi files as CGI scripts."""
    equal(server.get("/cgi-bin/hello.cgi").body, b"Hello from CGI\n", "body")


@behaviour("web", "web-path", RUNNING)
def path_missing_404(server):
    """A missing file under web --path is 404."""
    equal(server.get("/no-such-page").status, 404, "status")


@behaviour("web", "web-wsgi", 'guide, "Serving WSGI Applications"')
def wsgi_option_serves_app(server):
    """web --wsgi=wsgiapp.application serves the application at the root."""
    response = server.get("/")
    equal(response.status, 200, "status")
    check(response.body.startswith(b"Hello World!"), "body %r" % response.body[:60])


@behaviour("web", "web-wsgi", 'guide, "Serving WSGI Applications"')
def wsgi_option_every_path(server):
    """Every path goes to the application, with PATH_INFO the whole path."""
    equal(server.get("/some/path").body, b"Hello World! at /some/path", "body")
