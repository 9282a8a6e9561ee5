"""Resource trees, prepath and postpath (guide: "Resource Objects", "Resource Trees").

Sites: ``hello`` (the guide's Hello tree, also served by a learner's server)
and ``tree`` (isLeaf, getChild, args, Data).
"""

import json

from refweb.reference.suite import behaviour, check, equal

TREES = 'guide, "Resource Trees"'
OBJECTS = 'guide, "Resource Objects"'


def located(prepath):
    return ("Hello, world! I am located at %r." % (prepath,)).encode()


def hello(path, prepath, name, doc):
    """Register one Hello-tree behaviour: GET ``path`` answers 200 with ``prepath``."""
    def run(server):
        response = server.get(path)
        equal(response.status, 200, "status of GET %s" % path)
        equal(response.body, located(prepath), "body of GET %s" % path)
    run.__name__ = name
    run.__doc__ = doc
    behaviour("trees", "hello", TREES)(run)


hello("/", [""], "root_has_empty_segment",
      "GET / reaches the root through the empty segment: prepath is [''].")
hello("/fred", ["fred"], "putChild_child_found",
      "GET /fred reaches the child put at 'fred'; prepath is ['fred'].")
hello("/bob", ["bob"], "second_child_found",
      "GET /bob reaches the second putChild child; prepath is ['bob'].")
hello("/fred/", ["fred", ""], "trailing_slash_empty_segment",
      "A URL ending in a slash has a final empty segment: /fred/ gives prepath ['fred', ''].")
hello("/bob/", ["bob", ""], "trailing_slash_on_bob",
      "GET /bob/ gives prepath ['bob', ''], the final empty segment of the trailing slash.")
hello("/fred?x=1&y=2", ["fred"], "query_not_in_segments",
      "The query string is not part of the path: /fred?x=1&y=2 gives prepath ['fred'].")
hello("/%66red", ["fred"], "segments_percent_decoded",
      "Segments are percent-decoded before lookup: /%66red finds the child 'fred'.")
hello("//", ["", ""], "double_slash_two_empty_segments",
      "// is two empty segments, each walked: prepath ['', ''].")
hello("/fred//", ["fred", "", ""], "empty_segments_after_child",
      "/fred// gives prepath ['fred', '', ''], one empty segment per slash.")


@behaviour("trees", "hello", TREES)
def unknown_child_404(server):
    """A segment with no child and no getChild answer is 404 Not Found."""
    equal(server.get("/nothing").status, 404, "status of GET /nothing")


@behaviour("trees", "hello", TREES)
def grandchild_missing_404(server):
    """/fred/x: fred's getChild defers to Resource.getChild for 'x', which is 404."""
    equal(server.get("/fred/x").status, 404, "status of GET /fred/x")


@behaviour("trees", "hello", "RFC 9110 §4.2.3")
def path_case_sensitive(server):
    """Path segments are case-sensitive: /FRED is not /fred (404)."""
    equal(server.get("/FRED").status, 404, "status of GET /FRED")


@behaviour("trees", "hello", "RFC 9112 §3.2.2")
def absolute_form_target(server):
    """A request-target in absolute form (http://host/fred) is served like /fred (server MUST accept)."""
    response = server.get("http://example.com/fred")
    equal(response.status, 200, "status of GET http://example.com/fred")
    equal(response.body, located(["fred"]), "body")


@behaviour("trees", "hello", TREES)
def head_of_tree_page(server):
    """HEAD /fred answers like GET /fred but with no body."""
    response = server.request("HEAD", "/fred")
    equal(response.status, 200, "status of HEAD /fred")
    equal(response.body, b"", "body of HEAD")


def tree(server, path):
    response = server.get(path)
    equal(response.status, 200, "status of GET %s" % path)
    try:
        return json.loads(response.body)
    except ValueError:
        check(False, "body of GET %s is not the site's JSON: %r" % (path, response.body[:60]))


@behaviour("trees", "tree", OBJECTS)
def isLeaf_keeps_postpath(server):
    """A resource with isLeaf set is rendered with the unwalked segments left in postpath."""
    equal(tree(server, "/leaf/a/b"), {"prepath": ["leaf"], "postpath": ["a", "b"]},
          "prepath/postpath at /leaf/a/b")


@behaviour("trees", "tree", OBJECTS)
def isLeaf_no_rest(server):
    """At /leaf itself postpath is empty."""
    equal(tree(server, "/leaf"), {"prepath": ["leaf"], "postpath": []},
          "prepath/postpath at /leaf")


@behaviour("trees", "tree", OBJECTS)
def isLeaf_trailing_slash(server):
    """At /leaf/ postpath is [''], the trailing slash's empty segment."""
    equal(tree(server, "/leaf/"), {"prepath": ["leaf"], "postpath": [""]},
          "prepath/postpath at /leaf/")


@behaviour("trees", "tree", OBJECTS)
def nested_leaf_prepath(server):
    """Two levels down, prepath names both segments walked: /inner/leaf/x."""
    equal(tree(server, "/inner/leaf/x"), {"prepath": ["inner", "leaf"], "postpath": ["x"]},
          "prepath/postpath at /inner/leaf/x")


@behaviour("trees", "tree", OBJECTS)
def getChild_makes_child(server):
    """getChild is called for a segment with no putChild child and gets the segment's name."""
    equal(tree(server, "/dyn/anything"), {"name": "anything", "prepath": ["dyn", "anything"]},
          "what the dynamic child saw")


@behaviour("trees", "tree", OBJECTS)
def getChild_name_decoded(server):
    """The name given to getChild is percent-decoded: /dyn/a%20b gives 'a b'."""
    equal(tree(server, "/dyn/a%20b")["name"], "a b", "name at /dyn/a%20b")


@behaviour("trees", "tree", OBJECTS)
def getChild_name_utf8(server):
    """A percent-encoded UTF-8 segment reaches getChild as those bytes: caf%C3%A9 is 'café'."""
    equal(tree(server, "/dyn/caf%C3%A9")["name"], "café", "name at /dyn/caf%C3%A9")


@behaviour("trees", "tree", "RFC 3986 §2.2; guide, \"Resource Trees\"")
def encoded_slash_stays_in_segment(server):
    """%2F does not split segments: /dyn/a%2Fb is one segment named 'a/b'."""
    equal(tree(server, "/dyn/a%2Fb")["name"], "a/b", "name at /dyn/a%2Fb")


@behaviour("trees", "tree", OBJECTS)
def putChild_before_getChild(server):
    """A child put with putChild is found before getChild is asked."""
    equal(tree(server, "/explicit/known")["name"], "from putChild", "which child answered")
    equal(tree(server, "/explicit/other")["name"], "from getChild", "the other segment")


@behaviour("trees", "tree", 'guide, "Resource rendering"')
def args_from_query(server):
    """request.args holds the query's names with every value, in order."""
    equal(tree(server, "/args?a=1&b=2&a=3"), {"args": {"a": ["1", "3"], "b": ["2"]}},
          "request.args")


@behaviour("trees", "tree", 'guide, "Resource rendering"')
def args_plus_and_percent(server):
    """Query values are decoded: '+' is a space and %26 is '&'."""
    equal(tree(server, "/args?q=a+b%26c"), {"args": {"q": ["a b&c"]}}, "request.args")


@behaviour("trees", "tree", OBJECTS)
def request_uri_and_path(server):
    """request.uri is the target as sent, request.path the part before '?'."""
    equal(tree(server, "/where/x?y=1"),
          {"uri": "/where/x?y=1", "path": "/where/x", "method": "GET"}, "uri, path, method")


@behaviour("trees", "tree", OBJECTS)
def static_data_leaf(server):
    """static.Data serves its bytes with the content type it was given."""
    response = server.get("/data")
    equal((response.status, response.body), (200, b"just data"), "status and body")
    equal(response.header("content-type"), "text/plain", "Content-Type")
