"""Rewriting URLs: RewriterResource and tildeToUsers (guide: "Rewriting URLs")."""

from refweb.reference.suite import behaviour, equal

REWRITE = 'guide, "Rewriting URLs"'


@behaviour("rewriting", "rewrite", REWRITE)
def tilde_to_users(server):
    """/~foo/bar.html is served as /users/foo/bar.html."""
    response = server.get("/~foo/bar.html")
    equal((response.status, response.body), (200, b"<html>foo's bar page</html>\n"),
          "status and body")


@behaviour("rewriting", "rewrite", REWRITE)
def users_path_direct(server):
    """/users/foo/bar.html itself is served unchanged."""
    equal(server.get("/users/foo/bar.html").body, b"<html>foo's bar page</html>\n", "body")


@behaviour("rewriting", "rewrite", REWRITE)
def tilde_unknown_user_404(server):
    """/~nobody/x rewrites to /users/nobody/x, which is not there: 404."""
    equal(server.get("/~nobody/x").status, 404, "status")


@behaviour("rewriting", "rewrite", REWRITE)
def tilde_percent_encoded(server):
    """%7Efoo is ~foo once decoded: /%7Efoo/bar.html is rewritten too."""
    equal(server.get("/%7Efoo/bar.html").status, 200, "status")


@behaviour("rewriting", "rewrite", REWRITE)
def own_rule_applied(server):
    """A rule of our own (lower-case the first segment) runs before the walk: /SHOUT is /shout."""
    response = server.get("/SHOUT")
    equal((response.status, response.body), (200, b"quiet now"), "status and body")


@behaviour("rewriting", "rewrite", REWRITE)
def no_rule_matches_unchanged(server):
    """A path no rule changes is walked as it is: /shout."""
    equal(server.get("/shout").body, b"quiet now", "body")
