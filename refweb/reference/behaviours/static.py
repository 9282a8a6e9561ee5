"""Static files: static.File, indexNames, processors, ignoreExt, ranges, conditional GET,
listings (guide: "Serving Flat HTML", "Modifying File Resources").

Site ``files`` is ``static.File(root)`` over the fixture folder (a learner's
server serves the same folder); site ``scripts`` is the guide's
indexNames/processors/ignoreExt configuration.
"""

import email.utils
import os
import re

from refweb.reference.suite import behaviour, check, equal

FLAT = 'guide, "Serving Flat HTML"'
MODIFY = 'guide, "Modifying File Resources"'
DATA = (bytes(range(256)) * 4)[:1000]


def fixture(server, *parts):
    with open(os.path.join(server.root, *parts), "rb") as f:
        return f.read()


def mediaType(response):
    return (response.header("content-type") or "").split(";")[0].strip().lower()


@behaviour("static", "files", FLAT)
def file_served_exactly(server):
    """A file is served byte for byte with a Content-Length equal to its size."""
    response = server.get("/hello.txt")
    equal(response.status, 200, "status")
    equal(response.body, fixture(server, "hello.txt"), "body")
    equal(response.header("content-length"), str(len(response.body)), "Content-Length")


@behaviour("static", "files", FLAT)
def type_from_extension_txt(server):
    """A .txt file is served as text/plain."""
    equal(mediaType(server.get("/hello.txt")), "text/plain", "media type")


@behaviour("static", "files", FLAT)
def type_from_extension_css(server):
    """A .css file is served as text/css."""
    equal(mediaType(server.get("/style.css")), "text/css", "media type")


@behaviour("static", "files", FLAT)
def type_from_extension_html(server):
    """An .html file is served as text/html."""
    equal(mediaType(server.get("/withindex/index.html")), "text/html", "media type")


@behaviour("static", "files", FLAT)
def unknown_extension_default_type(server):
    """A file with an unknown extension gets File's defaultType, text/html."""
    equal(mediaType(server.get("/readme.zzz")), "text/html", "media type")


@behaviour("static", "files", MODIFY)
def directory_index_served(server):
    """GET / serves the folder's index.html (indexNames)."""
    response = server.get("/")
    equal(response.status, 200, "status")
    equal(response.body, fixture(server, "index.html"), "body")


@behaviour("static", "files", MODIFY)
def subfolder_index_served(server):
    """GET /withindex/ serves withindex/index.html."""
    equal(server.get("/withindex/").body, fixture(server, "withindex", "index.html"), "body")


@behaviour("static", "files", FLAT)
def folder_without_slash_redirects(server):
    """GET /sub (a folder) redirects to /sub/, so that relative links work."""
    response = server.get("/sub")
    check(response.status in (301, 302, 303, 307, 308), "status %d, not a redirect" % response.status)
    location = response.header("location") or ""
    check(location.endswith("/sub/"), "Location %r does not end in /sub/" % location)


@behaviour("static", "files", FLAT)
def listing_names_files(server):
    """A folder with no index file is listed: the page links to each file in it."""
    response = server.get("/sub/")
    equal(response.status, 200, "status")
    check(b'href="a.txt"' in response.body and b'href="b.txt"' in response.body,
          "the listing does not link a.txt and b.txt")


@behaviour("static", "files", "guide, \"Serving Flat HTML\"; HTML escaping")
def listing_escapes_names(server):
    """A file name with <, & and " is escaped in the listing, never sent as markup."""
    name = '<i>&"x.txt'
    with open(os.path.join(server.root, "sub", name), "w") as f:
        f.write("odd name\n")
    body = server.get("/sub/").body
    check(b"<i>" not in body, "the name's <i> reached the page unescaped")
    check(b"&lt;i&gt;" in body, "the escaped name &lt;i&gt; is not on the page")


@behaviour("static", "files", FLAT)
def missing_file_404(server):
    """A name with no file behind it is 404."""
    equal(server.get("/no-such-file.txt").status, 404, "status")


@behaviour("static", "files", FLAT)
def percent_encoded_name(server):
    """/a%20b.txt serves the file 'a b.txt'."""
    response = server.get("/a%20b.txt")
    equal((response.status, response.body), (200, fixture(server, "a b.txt")), "status and body")


@behaviour("static", "files", "RFC 9110 §17.4 (path traversal)")
def dotdot_does_not_escape(server):
    """A target with ../ segments never serves a file outside the folder."""
    with open(os.path.join(server.root, "..", "secret.txt"), "w") as f:
        f.write("outside the root\n")
    for target in ("/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt",
                   "/sub/%2e%2e/%2e%2e/secret.txt"):
        response = server.get(target)
        check(b"outside the root" not in response.body, "%s served the file outside" % target)


@behaviour("static", "files", "RFC 9110 §17.4 (path traversal)")
def encoded_slash_does_not_escape(server):
    """..%2F inside one segment does not climb out of the folder."""
    with open(os.path.join(server.root, "..", "secret.txt"), "w") as f:
        f.write("outside the root\n")
    response = server.get("/sub/..%2F..%2Fsecret.txt")
    check(b"outside the root" not in response.body, "..%2F served the file outside")


@behaviour("static", "files", "RFC 9110 §9.3.2")
def head_of_file(server):
    """HEAD of a file has GET's Content-Length and no body."""
    with server.connect() as conn:
        conn.send(b"HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        head = conn.readResponse("HEAD")
        get = conn.readResponse()
    equal(head.status, 200, "status of HEAD")
    equal(head.header("content-length"), str(len(get.body)), "HEAD's Content-Length")


@behaviour("static", "files", "RFC 9110 §8.8.2")
def last_modified_sent(server):
    """A file is served with Last-Modified, its modification time as an HTTP date."""
    value = server.get("/hello.txt").header("last-modified")
    check(value, "no Last-Modified")
    check(email.utils.parsedate_to_datetime(value) is not None, "Last-Modified %r is no date" % value)


@behaviour("static", "files", "RFC 9110 §13.1.3")
def if_modified_since_same_304(server):
    """If-Modified-Since equal to Last-Modified is answered 304 Not Modified, with no body."""
    stamp = server.get("/hello.txt").header("last-modified")
    with server.connect() as conn:
        conn.send("GET /hello.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: %s\r\n\r\n"
                  "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n" % stamp)
        equal(conn.readResponse().status, 304, "status")
        equal(conn.readResponse().status, 200, "status of the next response (304 had no body)")


@behaviour("static", "files", "RFC 9110 §13.1.3")
def if_modified_since_old_200(server):
    """If-Modified-Since before the file's time gets the whole file (200)."""
    response = server.get("/hello.txt", headers=[("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")])
    equal(response.status, 200, "status")
    equal(response.body, fixture(server, "hello.txt"), "body")


@behaviour("static", "files", "RFC 9110 §13.1.3")
def if_modified_since_invalid_ignored(server):
    """An If-Modified-Since that is not a date MUST be ignored: 200."""
    response = server.get("/hello.txt", headers=[("If-Modified-Since", "not a date")])
    equal(response.status, 200, "status")


@behaviour("static", "files", "RFC 9110 §13.1.3")
def if_none_match_overrides_ims(server):
    """If-Modified-Since MUST be ignored when If-None-Match is present: a non-matching tag gets 200."""
    stamp = server.get("/hello.txt").header("last-modified")
    response = server.get("/hello.txt", headers=[("If-None-Match", '"not-this-one"'),
                                                 ("If-Modified-Since", stamp)])
    equal(response.status, 200, "status")


@behaviour("static", "files", "RFC 9110 §13.1.2")
def if_none_match_etag_304(server):
    """If-None-Match with the ETag a file was served with gives 304."""
    etag = server.get("/hello.txt").header("etag")
    check(etag, "no ETag sent (RFC 9110 §8.8.3: an origin server SHOULD send one)")
    equal(server.get("/hello.txt", headers=[("If-None-Match", etag)]).status, 304, "status")


@behaviour("static", "files", "RFC 9110 §13.1.2")
def if_none_match_other_200(server):
    """If-None-Match naming another entity tag gets the file (200)."""
    response = server.get("/hello.txt", headers=[("If-None-Match", '"not-this-one"')])
    equal(response.status, 200, "status")


@behaviour("static", "files", "RFC 9110 §14.3")
def accept_ranges_bytes(server):
    """A file says Accept-Ranges: bytes."""
    equal(server.get("/data.bin").header("accept-ranges"), "bytes", "Accept-Ranges")


def ranged(server, spec, **kw):
    return server.get("/data.bin", headers=[("Range", spec)] + kw.get("extra", []))


@behaviour("static", "files", "RFC 9110 §14.1.2, §15.3.7")
def range_first_bytes(server):
    """Range: bytes=0-9 is 206 with those 10 bytes and Content-Range: bytes 0-9/1000."""
    response = ranged(server, "bytes=0-9")
    equal(response.status, 206, "status")
    equal(response.header("content-range"), "bytes 0-9/1000", "Content-Range")
    equal(response.body, DATA[:10], "body")


@behaviour("static", "files", "RFC 9110 §14.1.2")
def range_middle(server):
    """Range: bytes=100-199 is exactly bytes 100 to 199."""
    response = ranged(server, "bytes=100-199")
    equal((response.status, response.body), (206, DATA[100:200]), "status and body")
    equal(response.header("content-length"), "100", "Content-Length")


@behaviour("static", "files", "RFC 9110 §14.1.2")
def range_open_ended(server):
    """Range: bytes=990- is the last ten bytes."""
    response = ranged(server, "bytes=990-")
    equal((response.status, response.body), (206, DATA[990:]), "status and body")
    equal(response.header("content-range"), "bytes 990-999/1000", "Content-Range")


@behaviour("static", "files", "RFC 9110 §14.1.2")
def range_suffix(server):
    """Range: bytes=-5 is the last five bytes."""
    response = ranged(server, "bytes=-5")
    equal((response.status, response.body), (206, DATA[-5:]), "status and body")
    equal(response.header("content-range"), "bytes 995-999/1000", "Content-Range")


@behaviour("static", "files", "RFC 9110 §14.1.2")
def range_past_end_clipped(server):
    """A last-pos past the end is clipped to the file: bytes=995-5000 is 995-999."""
    response = ranged(server, "bytes=995-5000")
    equal((response.status, response.body), (206, DATA[995:]), "status and body")
    equal(response.header("content-range"), "bytes 995-999/1000", "Content-Range")


@behaviour("static", "files", "RFC 9110 §15.5.17, §14.4")
def range_unsatisfiable_416(server):
    """A range starting past the end is 416, with Content-Range: bytes */1000."""
    response = ranged(server, "bytes=1000-1100")
    equal(response.status, 416, "status")
    equal(response.header("content-range"), "bytes */1000", "Content-Range")


@behaviour("static", "files", "RFC 9110 §14.2")
def range_invalid_ignored(server):
    """A syntactically invalid range (bytes=5-2) is ignored: the whole file, 200."""
    response = ranged(server, "bytes=5-2")
    equal((response.status, len(response.body)), (200, 1000), "status and body length")


@behaviour("static", "files", "RFC 9110 §14.2")
def range_unknown_unit_ignored(server):
    """A range in a unit the server does not know (items=0-1) is ignored: 200."""
    equal(ranged(server, "items=0-1").status, 200, "status")


@behaviour("static", "files", "RFC 9110 §14.6")
def range_multiple_multipart(server):
    """Two ranges are answered 206 multipart/byteranges, one part per range."""
    response = ranged(server, "bytes=0-1,10-11")
    equal(response.status, 206, "status")
    ctype = response.header("content-type") or ""
    check(ctype.startswith("multipart/byteranges"), "Content-Type %r" % ctype)
    boundary = re.search(r'boundary="?([^";]+)"?', ctype)
    check(boundary, "no boundary in %r" % ctype)
    parts = response.body.split(b"--" + boundary.group(1).encode())
    ranges = [p for p in parts if b"Content-Range" in p or b"content-range" in p.lower()]
    equal(len(ranges), 2, "number of parts")
    check(b"bytes 0-1/1000" in ranges[0] and ranges[0].endswith(DATA[0:2] + b"\r\n"),
          "first part is not bytes 0-1")
    check(b"bytes 10-11/1000" in ranges[1], "second part is not bytes 10-11")


@behaviour("static", "files", "RFC 9110 §13.1.5")
def if_range_matching_date_206(server):
    """If-Range with the file's Last-Modified keeps the Range: 206."""
    stamp = server.get("/data.bin").header("last-modified")
    response = ranged(server, "bytes=0-9", extra=[("If-Range", stamp)])
    equal(response.status, 206, "status")


@behaviour("static", "files", "RFC 9110 §13.1.5")
def if_range_old_date_200(server):
    """If-Range with an older date means the file changed: the whole file, 200."""
    response = ranged(server, "bytes=0-9", extra=[("If-Range", "Sun, 06 Nov 1994 08:49:37 GMT")])
    equal((response.status, len(response.body)), (200, 1000), "status and body length")


@behaviour("static", "files", "RFC 9110 §14.2")
def range_on_head(server):
    """HEAD with Range gets the 206 head with no body."""
    response = server.request("HEAD", "/data.bin", headers=[("Range", "bytes=0-9")])
    check(response.status in (200, 206), "status %d" % response.status)
    equal(response.body, b"", "body")


# -- indexNames, processors, ignoreExt (site "scripts") --------------------------------

@behaviour("static", "scripts", MODIFY)
def indexNames_index_rpy(server):
    """With indexNames = ['index.rpy'], GET / runs index.rpy."""
    response = server.get("/")
    equal((response.status, response.body), (200, b"index.rpy here"), "status and body")


@behaviour("static", "scripts", MODIFY)
def processors_rpy_executed(server):
    """processors = {'.rpy': ResourceScript}: hello.rpy is run, not sent as text."""
    response = server.get("/hello.rpy")
    equal((response.status, response.body), (200, b"<html>foo</html>"), "status and body")


@behaviour("static", "scripts", MODIFY)
def processors_custom_extension(server):
    """A processor of our own (.shout) gets (path, registry) and renders the file."""
    response = server.get("/page.shout")
    equal((response.status, response.body), (200, b"QUIET WORDS\n"), "status and body")


@behaviour("static", "scripts", MODIFY)
def ignoreExt_finds_rpy(server):
    """After ignoreExt('.rpy'), /hello is served by hello.rpy."""
    response = server.get("/hello")
    equal((response.status, response.body), (200, b"<html>foo</html>"), "status and body")


@behaviour("static", "scripts", MODIFY)
def ignoreExt_plain_file_still_served(server):
    """Files without a processor are still served as they are."""
    response = server.get("/plain.txt")
    equal((response.status, response.body), (200, b"plain text beside the scripts\n"),
          "status and body")


@behaviour("static", "scripts", MODIFY)
def ignoreExt_missing_404(server):
    """ignoreExt finds nothing for a name with no file under any extension: 404."""
    equal(server.get("/nothing-here").status, 404, "status")
