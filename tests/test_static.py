"""Tests for refweb.static: files, folders, listings, ranges, as-is files,
and the traversal attacks a file server must refuse.

Every test serves a real Site on a free port and talks to it with real
clients (http.client, raw sockets, curl where present).
"""

import contextlib
import email.parser
import http.client
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from refweb import pages, resource, server, static
from support import freePort, get, rawHTTP, served, statusOf

MARKER = "SECRET-MARKER-7f3a91"


# -- helpers ---------------------------------------------------------------

def rawStatus(port, target):
    """Status code and whole response for ``GET target`` sent byte for byte."""
    data = rawHTTP(port, b"GET " + target.encode("latin-1")
                   + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    return statusOf(data), data


def write(path, data, mode=None):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    return str(path)


@pytest.fixture
def docroot(tmp_path):
    """A site folder, and next to it (outside it) a file named secret."""
    write(tmp_path / "secret", MARKER + "\n")
    write(tmp_path / "outside" / "secret", MARKER + "\n")
    root = tmp_path / "root"
    write(root / "a.txt", "alpha\n")
    write(root / "page.html", "<html>a page</html>\n")
    write(root / "data.bin", bytes(range(256)) * 4)
    write(root / "noext", "no extension\n")
    write(root / "sub" / "b.txt", "beta\n")
    write(root / "site" / "index.html", "<html>index page</html>\n")
    write(root / ".git" / "config", MARKER + "\n")
    write(root / ".htpasswd", MARKER + "\n")
    os.mkdir(root / "empty")
    os.symlink(str(tmp_path / "outside" / "secret"), root / "link-out")
    os.symlink(str(tmp_path / "outside"), root / "dir-out")
    os.symlink("a.txt", root / "link-in")
    os.symlink("nowhere", root / "dangling")
    os.mkfifo(root / "fifo")
    return root


# -- content types and validators ------------------------------------------

def test_content_types_from_extensions(docroot):
    """.txt is text/plain, .html text/html, an unknown one the defaultType."""
    root = static.File(str(docroot), defaultType="application/x-unknown")
    with served(root) as port:
        status, headers, body = get(port, "/a.txt")
        assert (status, body, headers["Content-Type"]) == (200, b"alpha\n", "text/plain")
        assert headers["Content-Length"] == "6"
        assert get(port, "/page.html")[1]["Content-Type"] == "text/html"
        assert get(port, "/noext")[1]["Content-Type"] == "application/x-unknown"
        assert get(port, "/sub/b.txt")[2] == b"beta\n"


def test_notebook_is_served_as_json(docroot):
    """An .ipynb is JSON (application/x-ipynb+json), not the text/html default."""
    write(docroot / "lesson.ipynb", '{"cells": []}')
    with served(static.File(str(docroot))) as port:
        status, headers, body = get(port, "/lesson.ipynb")
    assert (status, headers["Content-Type"], body) == (200, "application/x-ipynb+json",
                                                       b'{"cells": []}')


def test_content_types_extended_per_instance_reach_children(docroot):
    """A contentTypes dict given to one File is used by its children too."""
    write(docroot / "sub" / "x.weird", "w")
    root = static.File(str(docroot))
    root.contentTypes = dict(static.File.contentTypes, **{".weird": "application/x-weird"})
    with served(root) as port:
        assert get(port, "/sub/x.weird")[1]["Content-Type"] == "application/x-weird"
    assert ".weird" not in static.File.contentTypes


def test_content_types_extended_on_the_class(docroot, monkeypatch):
    """Extending File.contentTypes changes every File."""
    write(docroot / "x.weird2", "w")
    monkeypatch.setitem(static.File.contentTypes, ".weird2", "application/x-weird2")
    with served(static.File(str(docroot))) as port:
        assert get(port, "/x.weird2")[1]["Content-Type"] == "application/x-weird2"


@pytest.mark.parametrize("name, mediaType", [
    ("page.html.gz", "application/gzip"), ("src.tgz", "application/gzip"),
    ("a.tar.bz2", "application/x-bzip2"), ("a.tar.xz", "application/x-xz"),
    ("a.zst", "application/zstd"), ("a.css.br", "application/x-brotli"),
    ("old.tar.Z", "application/x-compress"), ("LOUD.GZ", "application/gzip")])
def test_compressed_file_is_its_own_type_without_content_encoding(docroot, name, mediaType):
    """A compressed file is sent as its own media type with no Content-Encoding, so
    that a client saves the file as it is on disk (as nginx serves it, unlike Twisted)."""
    write(docroot / name, b"\x1f\x8bnot really")
    with served(static.File(str(docroot))) as port:
        status, headers, body = get(port, "/" + name, headers={"Accept-Encoding": "gzip"})
    assert (status, headers["Content-Type"], body) == (200, mediaType, b"\x1f\x8bnot really")
    assert "Content-Encoding" not in headers


def test_content_encodings_give_twisteds_reading_of_gz(docroot):
    """With File.contentEncodings = TWISTED_CONTENT_ENCODINGS, page.html.gz is text/html
    with Content-Encoding: gzip, as in Twisted, and the listing says so."""
    write(docroot / "page.html.gz", b"\x1f\x8bnot really")
    root = static.File(str(docroot))
    root.contentEncodings = static.TWISTED_CONTENT_ENCODINGS
    with served(root) as port:
        status, headers, body = get(port, "/page.html.gz")
        listing = get(port, "/")[2].decode("utf-8")
    assert (headers["Content-Type"], headers["Content-Encoding"]) == ("text/html", "gzip")
    assert '<td class="type">text/html, gzip</td>' in listing


def test_last_modified_and_etag_then_304(docroot):
    """A file carries Last-Modified and ETag; either conditional gives 304."""
    os.utime(docroot / "a.txt", (1_000_000_000, 1_000_000_000))
    with served(static.File(str(docroot))) as port:
        status, headers, body = get(port, "/a.txt")
        assert headers["Last-Modified"] == "Sun, 09 Sep 2001 01:46:40 GMT"
        etag = headers["ETag"]
        assert etag.startswith('"') and etag.endswith('"')

        status, h, body = get(port, "/a.txt", headers={"If-None-Match": etag})
        assert (status, body) == (304, b"")
        assert h["ETag"] == etag
        assert get(port, "/a.txt", headers={"If-None-Match": '"x", ' + etag})[0] == 304
        assert get(port, "/a.txt", headers={"If-None-Match": "W/" + etag})[0] == 304
        assert get(port, "/a.txt", headers={"If-None-Match": "*"})[0] == 304
        assert get(port, "/a.txt", headers={"If-None-Match": '"other"'})[0] == 200

        lm = headers["Last-Modified"]
        assert get(port, "/a.txt", headers={"If-Modified-Since": lm})[:3:2] == (304, b"")
        later = "Mon, 10 Sep 2001 00:00:00 GMT"
        assert get(port, "/a.txt", headers={"If-Modified-Since": later})[0] == 304
        earlier = "Sat, 08 Sep 2001 00:00:00 GMT"
        assert get(port, "/a.txt", headers={"If-Modified-Since": earlier})[0] == 200
        assert get(port, "/a.txt", headers={"If-Modified-Since": "garbage"})[0] == 200


def test_if_none_match_wins_over_if_modified_since(docroot):
    """With If-None-Match present, If-Modified-Since is ignored (RFC 9110 §13.2.2)."""
    with served(static.File(str(docroot))) as port:
        lm = get(port, "/a.txt")[1]["Last-Modified"]
        status, _, body = get(port, "/a.txt", headers={"If-None-Match": '"stale"',
                                                       "If-Modified-Since": lm})
        assert (status, body) == (200, b"alpha\n")


def test_gzip_wrapped_file_is_framed_right(docroot):
    """Behind EncodingResourceWrapper a file arrives gzipped and complete."""
    import gzip
    write(docroot / "long.txt", "hello gzip world\n" * 500)
    root = resource.EncodingResourceWrapper(static.File(str(docroot)),
                                            [server.GzipEncoderFactory()])
    with served(root) as port:
        status, headers, body = get(port, "/long.txt", headers={"Accept-Encoding": "gzip"})
        assert headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == b"hello gzip world\n" * 500
        assert get(port, "/long.txt")[2] == b"hello gzip world\n" * 500


def test_head_sends_headers_without_body(docroot):
    """HEAD gives the GET headers, Content-Length included, and no body."""
    with served(static.File(str(docroot))) as port:
        data = rawHTTP(port, b"HEAD /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        assert b"\r\nContent-Length: 6" in head
        assert b"\r\nContent-Type: text/plain" in head
        assert body == b""


def test_post_to_a_file_is_405(docroot):
    """A static file answers only GET and HEAD."""
    with served(static.File(str(docroot))) as port:
        status, headers, _ = get(port, "/a.txt", method="POST")
        assert status == 405
        assert "GET" in headers["Allow"]


# -- ranges ------------------------------------------------------------------

def test_single_range_is_206(docroot):
    """One satisfiable range: 206 with Content-Range and just those bytes."""
    data = bytes(range(256)) * 4
    with served(static.File(str(docroot))) as port:
        status, headers, body = get(port, "/data.bin", headers={"Range": "bytes=0-9"})
        assert (status, body) == (206, data[:10])
        assert headers["Content-Range"] == "bytes 0-9/1024"
        assert headers["Content-Length"] == "10"
        status, headers, body = get(port, "/data.bin", headers={"Range": "bytes=-5"})
        assert (status, body, headers["Content-Range"]) == (206, data[-5:], "bytes 1019-1023/1024")
        status, headers, body = get(port, "/data.bin", headers={"Range": "bytes=1000-"})
        assert (status, body) == (206, data[1000:])
        status, headers, body = get(port, "/data.bin", headers={"Range": "bytes=1020-5000"})
        assert (status, body, headers["Content-Range"]) == (206, data[1020:], "bytes 1020-1023/1024")


def test_several_ranges_are_multipart_byteranges(docroot):
    """Several ranges come back as multipart/byteranges, one part per range."""
    data = bytes(range(256)) * 4
    with served(static.File(str(docroot))) as port:
        status, headers, body = get(port, "/data.bin", headers={"Range": "bytes=0-3,10-12,-2"})
    assert status == 206
    assert headers["Content-Type"].startswith("multipart/byteranges; boundary=")
    assert int(headers["Content-Length"]) == len(body)
    message = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + headers["Content-Type"].encode() + b"\r\n\r\n" + body)
    parts = message.get_payload()
    assert [p["Content-Range"] for p in parts] == [
        "bytes 0-3/1024", "bytes 10-12/1024", "bytes 1022-1023/1024"]
    assert [p.get_payload(decode=True) for p in parts] == [data[0:4], data[10:13], data[1022:]]
    assert {p["Content-Type"] for p in parts} == {"application/octet-stream"}


def test_unsatisfiable_range_is_416(docroot):
    """A range wholly past the end gives 416 and Content-Range bytes */SIZE."""
    with served(static.File(str(docroot))) as port:
        status, headers, _ = get(port, "/data.bin", headers={"Range": "bytes=2000-3000"})
        assert status == 416
        assert headers["Content-Range"] == "bytes */1024"


def test_bad_or_ignored_ranges_give_the_whole_file(docroot):
    """Bad syntax, another unit, too many ranges or a stale If-Range: 200."""
    with served(static.File(str(docroot))) as port:
        etag = get(port, "/data.bin")[1]["ETag"]
        for header in ("bytes=9-3", "bytes=abc", "items=0-1", "bytes=",
                       "bytes=" + ",".join("%d-%d" % (i, i) for i in range(40))):
            status, _, body = get(port, "/data.bin", headers={"Range": header})
            assert (status, len(body)) == (200, 1024), header
        status, _, body = get(port, "/data.bin", headers={"Range": "bytes=0-1",
                                                          "If-Range": '"stale"'})
        assert (status, len(body)) == (200, 1024)
        status, _, body = get(port, "/data.bin", headers={"Range": "bytes=0-1", "If-Range": etag})
        assert (status, len(body)) == (206, 2)


def test_parse_range_table():
    """parseRange maps each header form to ranges, [] or None."""
    assert static.parseRange("bytes=0-0", 10) == [(0, 0)]
    assert static.parseRange("bytes=5-", 10) == [(5, 9)]
    assert static.parseRange("bytes=-20", 10) == [(0, 9)]
    assert static.parseRange("bytes=-0", 10) == []
    assert static.parseRange("bytes=10-", 10) == []
    assert static.parseRange("bytes=0-", 0) == []
    assert static.parseRange("bytes=-", 10) is None
    assert static.parseRange("bytes=1-2-3", 10) is None
    assert static.parseRange("BYTES = 1-2", 10) == [(1, 2)]


def test_large_file_streams_whole(docroot):
    """A file of several MiB arrives complete, byte for byte."""
    data = os.urandom(1 << 16) * 96  # 6 MiB
    write(docroot / "big.bin", data)
    with served(static.File(str(docroot))) as port:
        status, headers, body = get(port, "/big.bin")
    assert status == 200 and headers["Content-Length"] == str(len(data))
    assert body == data


def test_keep_alive_after_file_and_range(docroot):
    """Two requests on one connection: file bodies are framed exactly."""
    with served(static.File(str(docroot))) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/a.txt")
        assert conn.getresponse().read() == b"alpha\n"
        conn.request("GET", "/data.bin", headers={"Range": "bytes=0-1"})
        assert conn.getresponse().read() == b"\x00\x01"
        conn.request("GET", "/sub/b.txt")
        assert conn.getresponse().read() == b"beta\n"
        conn.close()


# -- folders -------------------------------------------------------------------

def test_folder_redirect_page_has_the_shared_look_and_a_link(docroot):
    """The 301 for /sub has error pages' head (pages.HEAD, pages.STYLE) and links to /sub/."""
    from refweb import error
    with served(static.File(str(docroot))) as port:
        status, headers, body = get(port, "/sub?a=1&b=2")
    text = body.decode("utf-8")
    assert status == 301 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert text.startswith(pages.HEAD % {"title": "301 Moved Permanently", "style": pages.STYLE})
    href = headers["Location"].replace("&", "&amp;")
    assert '<a href="%s">%s</a>' % (href, href) in text and "<h1>301 Moved Permanently</h1>" in text


def test_folder_without_slash_redirects_keeping_query(docroot):
    """/sub redirects to /sub/ and keeps the query string."""
    with served(static.File(str(docroot))) as port:
        status, headers, _ = get(port, "/sub?x=1&y=2")
        assert status in (301, 302)
        assert headers["Location"].endswith("/sub/?x=1&y=2")
        status, headers, _ = get(port, "/sub")
        assert headers["Location"] in ("http://127.0.0.1:%d/sub/" % port, "sub/", "/sub/")


def test_index_names_in_order(docroot):
    """The first existing name of indexNames is served for a folder."""
    write(docroot / "idx" / "index.html", "html index")
    write(docroot / "idx" / "index.htm", "htm index")
    root = static.File(str(docroot))
    with served(root) as port:
        assert get(port, "/idx/")[2] == b"html index"
        assert get(port, "/site/")[2] == b"<html>index page</html>\n"
        root.indexNames = ["index.htm", "index.html"]
        assert get(port, "/idx/")[2] == b"htm index"
        write(docroot / "idx" / "index", "bare index")
        root.indexNames = static.File.indexNames
        assert get(port, "/idx/")[2] == b"bare index"


def test_listing_is_sorted_and_escaped(docroot):
    """A listing shows folders then files, sorted, names escaped and quoted."""
    write(docroot / "sub" / '<b>&"x\'.txt', "x")
    write(docroot / "sub" / "with space é.txt", "y")
    os.mkdir(docroot / "sub" / "zfolder")
    os.mkdir(docroot / "sub" / "afolder")
    with served(static.File(str(docroot))) as port:
        status, headers, body = get(port, "/sub/")
    text = body.decode("utf-8")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "<b>&" not in text
    assert "&lt;b&gt;&amp;&quot;x&#x27;.txt" in text
    assert 'href="%3Cb%3E%26%22x%27.txt"' in text
    assert 'href="with%20space%20%C3%A9.txt"' in text
    assert "with space é.txt" in text
    order = [text.index(s) for s in ('href="afolder/"', 'href="zfolder/"',
                                     'href="%3Cb', 'href="b.txt"', 'href="with%20')]
    assert order == sorted(order)
    assert "<style>" in text and "Directory listing for /sub/" in text


def test_listing_hides_dotfiles_and_unservable_entries(docroot):
    """Dotfiles, links leaving the root, dangling links and FIFOs are not listed."""
    with served(static.File(str(docroot))) as port:
        text = get(port, "/")[2].decode("utf-8")
    for hidden in (".git", ".htpasswd", "link-out", "dir-out", "dangling", "fifo"):
        assert 'href="%s' % hidden not in text, hidden
    assert 'href="link-in"' in text and 'href="a.txt"' in text and 'href="sub/"' in text


def test_hidden_paths_are_neither_listed_nor_served(docroot):
    """Files in hiddenPaths (refweb web's pid and log files) are not listed and
    answer 404, in subfolders too; their neighbours are untouched."""
    write(docroot / "refweb.pid", "123\n")
    write(docroot / "sub" / "refweb.log", "log line\n")
    root = static.File(str(docroot))
    root.hiddenPaths = frozenset(os.path.realpath(str(p)) for p in
                                 (docroot / "refweb.pid", docroot / "sub" / "refweb.log"))
    with served(root) as port:
        listing = get(port, "/")[2].decode("utf-8")
        subListing = get(port, "/sub/")[2].decode("utf-8")
        assert get(port, "/refweb.pid")[0] == 404
        assert get(port, "/sub/refweb.log")[0] == 404
        assert get(port, "/sub/b.txt")[2] == b"beta\n"
    assert "refweb.pid" not in listing and 'href="a.txt"' in listing
    assert "refweb.log" not in subListing and 'href="b.txt"' in subListing


def test_empty_folder_lists_nothing(docroot):
    """An empty folder gives a listing page with no rows but the parent link."""
    with served(static.File(str(docroot))) as port:
        status, _, body = get(port, "/empty/")
    assert status == 200 and listedLinks(body) == ["../"]
    assert b"<footer>0 folders, 0 files;" in body


# -- the listing a browser user expects --------------------------------------------

def listedLinks(body):
    """The href of every row of a listing, top to bottom."""
    return re.findall(r'<td class="name"(?: colspan="4")?><a href="([^"]*)"', body.decode("utf-8"))


@pytest.fixture
def listed(tmp_path):
    """A folder whose entries sort differently by name, size and date."""
    root = tmp_path / "listed"
    entries = [  # name, size, mtime (seconds since the epoch, UTC)
        ("b.txt", 2048, 1000000000), ("A.txt", 5, 1200000000), ("c.bin", 3 << 20, 900000000),
        ('<i>&"q\'.txt', 40, 1100000000)]
    os.makedirs(root)
    for name, size, mtime in entries:
        with open(root / name, "wb") as f:
            f.truncate(size)
        os.utime(root / name, (mtime, mtime))
    for name, mtime in (("zdir", 800000000), ("Ydir", 1300000000)):
        os.mkdir(root / name)
        write(root / name / "inside.txt", "in " + name)
        os.utime(root / name, (mtime, mtime))
    return root


def test_listing_links_to_the_parent_folder(listed):
    """Every listing but the top one starts with a link up to "../"; the top has none."""
    with served(static.File(str(listed.parent))) as port:
        top = get(port, "/")[2]
        below = get(port, "/listed/")[2]
        deeper = get(port, "/listed/zdir/")[2]
    assert "../" not in listedLinks(top) and listedLinks(top) == ["listed/"]
    assert listedLinks(below)[0] == "../" and b'<a href="../" rel="up">../ (parent folder)</a>' in below
    assert listedLinks(deeper) == ["../", "inside.txt"]
    assert b"<footer>1 folder, 0 files;" in top and b"<footer>0 folders, 1 file;" in deeper


def test_listing_shows_human_sizes_and_utc_dates(listed):
    """Sizes read 5B, 2K, 3M with the byte count as tooltip; dates are UTC, to the minute."""
    with served(static.File(str(listed))) as port:
        text = get(port, "/")[2].decode("utf-8")
    assert ('<a href="b.txt">b.txt</a></td><td class="size" title="2048 bytes">2K</td>'
            '<td class="date"><time datetime="2001-09-09T01:46:40Z">2001-09-09 01:46</time></td>'
            '<td class="type">text/plain</td>') in text
    assert '<td class="size" title="5 bytes">5B</td>' in text
    assert '<td class="size" title="3145728 bytes">3M</td>' in text
    assert ('<a href="zdir/">zdir/</a></td><td class="size">-</td><td class="date">'
            '<time datetime="1995-05-09T06:13:20Z">1995-05-09 06:13</time></td>'
            '<td class="type">folder</td>') in text


def test_listing_says_1_byte_not_1_bytes(tmp_path):
    """A one-byte file's tooltip reads "1 byte"; an empty one's "0 bytes"."""
    write(tmp_path / "one", b"x")
    write(tmp_path / "none", b"")
    with served(static.File(str(tmp_path))) as port:
        text = get(port, "/")[2].decode("utf-8")
    assert '<td class="size" title="1 byte">1B</td>' in text
    assert '<td class="size" title="0 bytes">0B</td>' in text


def test_listing_types_what_a_processor_renders(tmp_path):
    """Files a processor renders are listed as what they are ("resource script",
    "CGI script", "rendered by" a plain factory's name), not as text/plain."""
    from refweb import script, twcgi

    def shout(path, registry):
        return static.Data(b"!", "text/plain")

    for name in ("counter.rpy", "env.cgi", "loud.shout", "notes.txt", "run.CGI"):
        write(tmp_path / name, "x")
    root = static.File(str(tmp_path))
    root.processors = {".rpy": script.ResourceScript, ".cgi": twcgi.CGIScript, ".shout": shout}
    with served(root) as port:
        text = get(port, "/")[2].decode("utf-8")
    types = dict(re.findall(r'<a href="([^"]*)">.*?<td class="type">([^<]*)</td>', text))
    assert types == {"counter.rpy": "resource script", "env.cgi": "CGI script",
                     "loud.shout": "rendered by shout", "notes.txt": "text/plain",
                     "run.CGI": "CGI script"}


def test_listing_types_compressed_files_as_themselves(tmp_path):
    """A listed .gz file's type is application/gzip, as it is sent."""
    write(tmp_path / "page.html.gz", b"\x1f\x8b")
    with served(static.File(str(tmp_path))) as port:
        text = get(port, "/")[2].decode("utf-8")
    assert '<td class="type">application/gzip</td>' in text


@pytest.mark.parametrize("query, wanted", [
    ("", ["Ydir/", "zdir/", "%3Ci%3E%26%22q%27.txt", "A.txt", "b.txt", "c.bin"]),
    ("?sort=name&order=desc", ["zdir/", "Ydir/", "c.bin", "b.txt", "A.txt", "%3Ci%3E%26%22q%27.txt"]),
    ("?sort=size", ["Ydir/", "zdir/", "A.txt", "%3Ci%3E%26%22q%27.txt", "b.txt", "c.bin"]),
    ("?sort=size&order=desc", ["zdir/", "Ydir/", "c.bin", "b.txt", "%3Ci%3E%26%22q%27.txt", "A.txt"]),
    ("?sort=date", ["zdir/", "Ydir/", "c.bin", "b.txt", "%3Ci%3E%26%22q%27.txt", "A.txt"]),
    ("?sort=date&order=desc", ["Ydir/", "zdir/", "A.txt", "%3Ci%3E%26%22q%27.txt", "b.txt", "c.bin"]),
    ("?sort=%3Cscript%3E&order=sideways", ["Ydir/", "zdir/", "%3Ci%3E%26%22q%27.txt", "A.txt",
                                          "b.txt", "c.bin"]),
])
def test_listing_sorts_by_query_with_folders_first(listed, query, wanted):
    """?sort=name|size|date&order=asc|desc orders the rows, folders first; anything else is by name."""
    with served(static.File(str(listed))) as port:
        status, _, body = get(port, "/" + query)
    assert status == 200 and listedLinks(body) == wanted
    assert b"<script" not in body and b"sideways" not in body


def test_listing_headings_are_sort_links(listed):
    """Each heading links to its sort; the current one is marked and links to the other way."""
    with served(static.File(str(listed))) as port:
        plain = get(port, "/")[2].decode("utf-8")
        bySize = get(port, "/?sort=size&order=asc")[2].decode("utf-8")
        sizeDown = get(port, "/?sort=size&order=desc")[2].decode("utf-8")
    assert ('<th class="name" aria-sort="ascending"><a href="?sort=name&amp;order=desc">Name \u25b2</a></th>'
            '<th class="size"><a href="?sort=size&amp;order=asc">Size</a></th>'
            '<th class="date"><a href="?sort=date&amp;order=asc">Modified (UTC)</a></th>'
            '<th class="type">Type</th>') in plain
    assert '<th class="size" aria-sort="ascending"><a href="?sort=size&amp;order=desc">Size \u25b2</a>' in bySize
    assert '<th class="size" aria-sort="descending"><a href="?sort=size&amp;order=asc">Size \u25bc</a>' in sizeDown
    assert '<th class="name"><a href="?sort=name&amp;order=asc">Name</a>' in sizeDown


def test_listing_escapes_names_in_every_order(listed):
    """A hostile name is escaped in the text and percent-quoted in the link, whatever the sort."""
    with served(static.File(str(listed))) as port:
        for query in ("", "?sort=size", "?sort=date&order=desc"):
            text = get(port, "/" + query)[2].decode("utf-8")
            assert '<a href="%3Ci%3E%26%22q%27.txt">&lt;i&gt;&amp;&quot;q&#x27;.txt</a>' in text
            assert "<i>" not in text


def test_listing_reads_on_a_small_screen(listed):
    """The page has a viewport line, UTF-8, CSS that drops the type column when narrow, and no script."""
    with served(static.File(str(listed))) as port:
        status, headers, body = get(port, "/")
    text = body.decode("utf-8")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert "@media (max-width: 40em) { .type { display: none }" in text
    assert "<script" not in text and "<footer>2 folders, 4 files;" in text


HOSTILE_NAMES = {  # name on disk -> its href in a listing (no "/" can be in a name)
    "<script>x.txt": "%3Cscript%3Ex.txt",
    'say "hi".txt': "say%20%22hi%22.txt",
    "fish & chips.txt": "fish%20%26%20chips.txt",
    "100%.txt": "100%25.txt",
    "why?.txt": "why%3F.txt",
    "#tag.txt": "%23tag.txt",
    "caf\u00e9 \u65e5\u672c.txt": "caf%C3%A9%20%E6%97%A5%E6%9C%AC.txt",
}


def test_listing_escapes_and_quotes_hostile_names(tmp_path):
    """Names with <, ", &, %, ?, #, spaces and non-ASCII are escaped in the text,
    percent-quoted in the link, and every link fetches its own file."""
    root = tmp_path / "hostile"
    for name in HOSTILE_NAMES:
        write(root / name, "body of " + name)
    folder = '<b> & "q" %?#'
    write(root / folder / "inner.txt", "inner")
    with served(static.File(str(root))) as port:
        status, _, body = get(port, "/")
        text = body.decode("utf-8")
        assert status == 200
        for name, href in HOSTILE_NAMES.items():
            shown = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            shown = shown.replace('"', "&quot;")
            assert '<a href="%s">%s</a>' % (href, shown) in text, name
            assert get(port, "/" + href)[2] == ("body of " + name).encode("utf-8"), name
        folderHref = "%3Cb%3E%20%26%20%22q%22%20%25%3F%23/"
        assert ('<a href="%s">&lt;b&gt; &amp; &quot;q&quot; %%?#/</a>' % folderHref) in text
        status, _, inner = get(port, "/" + folderHref)
    innerText = inner.decode("utf-8")
    assert status == 200 and listedLinks(inner) == ["../", "inner.txt"]
    assert "<h1>Directory listing for /&lt;b&gt; &amp; &quot;q&quot; %?#/</h1>" in innerText
    assert "<script" not in text and "<b>" not in text and "<b>" not in innerText


@pytest.mark.parametrize("size, shown", [
    (0, "0B"), (1023, "1023B"), (1024, "1K"), (1535, "1.4K"), (2048, "2K"), (10239, "9.9K"),
    (10240, "10K"), ((1 << 20) - 1, "1023K"), (1 << 20, "1M"), (3000000, "2.8M"), (5 << 30, "5G")])
def test_human_sizes(size, shown):
    """formatFileSize rounds down in powers of 1024, one decimal below 10 unless it is .0."""
    assert static.formatFileSize(size) == shown


@pytest.mark.parametrize("query", [
    "?sort=", "?sort", "?order=up", "?sort=size&sort=date", "?sort=%FF%FE", "?sort=NAME",
    "?sort=name&order=DESC", "?%00=%00"])
def test_listing_odd_sort_parameters_never_fail(listed, query):
    """An unknown, empty, repeated or undecodable sort parameter is a 200 listing,
    in the default order unless a known value comes first."""
    with served(static.File(str(listed))) as port:
        status, _, body = get(port, "/" + query)
    assert status == 200 and len(listedLinks(body)) == 6
    assert listedLinks(body)[:2] == ["Ydir/", "zdir/"]


def test_listing_parent_link_under_a_mounted_folder(listed):
    """A File mounted at /files/ has a parent link (up to the site's root); the root has none."""
    root = resource.Resource()
    root.putChild("files", static.File(str(listed)))
    with served(root) as port:
        assert listedLinks(get(port, "/files/")[2])[0] == "../"
    with served(static.File(str(listed))) as port:
        assert "../" not in listedLinks(get(port, "/")[2])
        assert "../" not in listedLinks(get(port, "/?sort=size")[2])


def test_lister_of_a_missing_folder_is_404(tmp_path):
    """A DirectoryLister made for a folder that is gone answers 404 with a page, not a 500."""
    with served(static.DirectoryLister(str(tmp_path / "gone"))) as port:
        status, _, body = get(port, "/")
    assert status == 404 and b"This folder cannot be listed." in body


def test_lister_without_names_lists_the_folder(listed):
    """A DirectoryLister given no names lists every entry of its folder itself."""
    with served(static.DirectoryLister(str(listed))) as port:
        status, _, body = get(port, "/?sort=size&order=desc")
    assert status == 200
    assert listedLinks(body) == ["zdir/", "Ydir/", "c.bin", "b.txt", "%3Ci%3E%26%22q%27.txt", "A.txt"]


def test_double_slash_reads_as_one(docroot):
    """An empty segment in the middle of a path is skipped: //sub//b.txt is /sub/b.txt."""
    with served(static.File(str(docroot))) as port:
        assert get(port, "//sub//b.txt")[2] == b"beta\n"
        assert get(port, "/site//")[2] == b"<html>index page</html>\n"


def test_file_with_children_is_404(docroot):
    """A regular file has no children: /a.txt/x is 404."""
    with served(static.File(str(docroot))) as port:
        assert get(port, "/a.txt/x")[0] == 404
        assert get(port, "/a.txt/")[0] == 404
        assert get(port, "/missing.txt")[0] == 404
        assert get(port, "/missing/x")[0] == 404
    for ignored in ({"ignoredExts": [".txt"]}, {"allowExt": True}):
        with served(static.File(str(docroot), **ignored)) as port:
            assert get(port, "/a.txt/a")[0] == 404
            assert get(port, "/a")[2] == b"alpha\n"  # the setting is on
    with served(static.File(str(docroot / "a.txt"))) as port:  # a file as the root
        assert get(port, "/x")[0] == 404
        assert get(port, "/")[0] == 404


# -- processors, ignoreExt, putChild, registry -----------------------------------

def test_processors_get_path_and_registry(docroot):
    """A processor factory is called with the file's path and the tree's registry."""
    seen = []

    def processor(path, registry):
        seen.append((path, registry))
        return static.Data(b"processed " + os.path.basename(path).encode(), "text/plain")

    write(docroot / "sub" / "thing.proc", "raw")
    root = static.File(str(docroot))
    root.processors = {".proc": processor}
    with served(root) as port:
        assert get(port, "/sub/thing.proc")[2] == b"processed thing.proc"
    assert seen == [(str(docroot / "sub" / "thing.proc"), root.registry)]


def test_ignore_ext_only_when_name_missing(docroot):
    """ignoreExt lets /foo find foo.proc, but only when no foo exists."""
    write(docroot / "foo.proc", "foo")
    write(docroot / "bar.proc", "bar proc")
    write(docroot / "bar", "the file named bar\n")
    root = static.File(str(docroot))
    root.processors = {".proc": lambda p, r: static.Data(b"ran " + open(p, "rb").read(),
                                                         "text/plain")}
    root.ignoreExt(".proc")
    with served(root) as port:
        assert get(port, "/foo")[2] == b"ran foo"
        assert get(port, "/foo.proc")[2] == b"ran foo"
        assert get(port, "/bar")[2] == b"the file named bar\n"
        assert get(port, "/nothere")[0] == 404


def test_allow_ext_star_finds_any_extension(docroot):
    """allowExt (ignoredExts ['*']) lets /page find page.html."""
    with served(static.File(str(docroot), allowExt=True)) as port:
        assert get(port, "/page")[2] == b"<html>a page</html>\n"


def test_put_child_overrides_the_filesystem(docroot):
    """A putChild child is found before the file of the same name."""
    root = static.File(str(docroot))
    root.putChild("a.txt", static.Data(b"from putChild", "text/plain"))
    root.putChild("doc", static.File(str(docroot / "sub")))
    with served(root) as port:
        assert get(port, "/a.txt")[2] == b"from putChild"
        assert get(port, "/doc/b.txt")[2] == b"beta\n"


def test_children_inherit_settings(docroot):
    """Child Files share processors, indexNames, registry, defaultType, root."""
    registry = static.Registry()
    root = static.File(str(docroot), defaultType="text/x-default", registry=registry,
                       ignoredExts=(".txt",), allowDotfiles=True)
    root.processors = {".p": None}
    root.indexNames = ["b.txt"]
    child = root.getChild("sub", None)
    assert isinstance(child, static.File)
    assert child.registry is registry and child.processors is root.processors
    assert child.indexNames == ["b.txt"] and child.defaultType == "text/x-default"
    assert child.ignoredExts == [".txt"] and child.allowDotfiles and child.root == root.root
    assert repr(child).endswith("sub'>")
    assert child.isdir() and not root.getChild("a.txt", None).isdir()


def test_registry_components():
    """getComponent is None for any never-set key; set, get and remove work."""
    class Counter:
        pass
    registry = static.Registry()
    assert registry.getComponent(Counter) is None
    assert registry.getComponent(Counter, "d") == "d"
    registry.setComponent(Counter, 5)
    assert registry.getComponent(Counter) == 5
    assert registry.removeComponent(Counter) == 5
    assert registry.getComponent(Counter) is None
    registry.cachePath("/x", "r")
    assert registry.getCachedPath("/x") == "r"
    registry.uncachePath("/x")
    assert registry.getCachedPath("/x") is None


def test_data_resource(docroot):
    """Data serves fixed bytes with its type, at any depth below it."""
    root = resource.Resource()
    root.putChild("d", static.Data(b"fixed bytes", "application/x-fixed"))
    root.putChild("s", static.Data("text é", "text/plain; charset=utf-8"))
    with served(root) as port:
        status, headers, body = get(port, "/d")
        assert (status, body, headers["Content-Type"]) == (200, b"fixed bytes",
                                                           "application/x-fixed")
        assert get(port, "/s")[2] == "text é".encode()
        status, headers, body = get(port, "/d", method="HEAD")
        assert (status, body, headers["Content-Length"]) == (200, b"", "11")


def test_mime_helpers(tmp_path):
    """loadMimeTypes reads extra files; getTypeAndEncoding splits encodings."""
    types_file = write(tmp_path / "mime.types", "application/x-zz zz\n")
    types = static.loadMimeTypes([types_file, str(tmp_path / "missing")])
    assert types[".zz"] == "application/x-zz" and types[".txt"] == "text/plain"
    assert static.getTypeAndEncoding("a.TXT", types, {}, "d") == ("text/plain", None)
    assert static.getTypeAndEncoding("a.tar.gz", types, {".gz": "gzip"}, "d")[1] == "gzip"
    assert static.getTypeAndEncoding("a.nope", types, {}, "d") == ("d", None)
    assert [static.formatFileSize(n) for n in (5, 2048, 3 << 20, 5 << 30)] == [
        "5B", "2K", "3M", "5G"]


# -- as-is files -----------------------------------------------------------------

ASIS = b"HTTP/1.0 200 OK\nContent-Type: text/html\n\nHello world\n"


def asisRoot(docroot, content=ASIS):
    write(docroot / "hello.asis", content)
    root = static.File(str(docroot))
    root.processors = {".asis": static.ASISProcessor}
    return root


def test_asis_http10_sends_file_exactly_and_closes(docroot):
    """An HTTP/1.0 client gets the .asis file byte for byte, then EOF."""
    with served(asisRoot(docroot)) as port:
        data = rawHTTP(port, b"GET /hello.asis HTTP/1.0\r\nHost: x\r\n\r\n")
    assert data == ASIS


def test_asis_http11_never_hangs(docroot):
    """An HTTP/1.1 keep-alive client gets the file and then the connection closes."""
    with served(asisRoot(docroot)) as port:
        t0 = time.monotonic()
        data = rawHTTP(port, b"GET /hello.asis HTTP/1.1\r\nHost: x\r\n\r\n", timeout=10)
        assert time.monotonic() - t0 < 5
    assert data == ASIS


def test_asis_head_gets_only_the_head(docroot):
    """HEAD on an .asis file sends the status line and headers only."""
    with served(asisRoot(docroot)) as port:
        data = rawHTTP(port, b"HEAD /hello.asis HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data == b"HTTP/1.0 200 OK\nContent-Type: text/html\n\n"


def test_asis_crlf_file_and_head(docroot):
    """A CRLF .asis file is sent as is; HEAD stops at its blank line."""
    content = b"HTTP/1.1 404 Gone Fishing\r\nX-A: 1\r\nContent-Length: 3\r\n\r\nabc"
    with served(asisRoot(docroot, content)) as port:
        assert rawHTTP(port, b"GET /hello.asis HTTP/1.1\r\nHost: x\r\n\r\n") == content
        assert rawHTTP(port, b"HEAD /hello.asis HTTP/1.1\r\nHost: x\r\n\r\n") == content[:-3]


def test_asis_without_status_line_is_500(docroot):
    """A file that does not begin with a status line is a 500, not sent."""
    with served(asisRoot(docroot, b"Hello, no head\n")) as port:
        status, _, body = get(port, "/hello.asis")
    assert status == 500 and b"Hello, no head" not in body


# -- safety: the traversal attack table -------------------------------------

ATTACKS = [
    "/../secret",
    "/../../secret",
    "/%2e%2e/secret",
    "/%2E%2E/secret",
    "/sub/%2e%2e%2f%2e%2e%2fsecret",
    "/..%2fsecret",
    "/%2e%2e%5csecret",
    "/..%5csecret",
    "/sub/..%5c..%5csecret",
    "/%252e%252e/secret",
    "/./../secret",
    "/sub/../../secret",
    "/sub/./../../secret",
    "//etc/passwd",
    "/../etc/passwd",
    "/a%00b",
    "/a.txt%00.html",
    "/.git/config",
    "/.git/",
    "/.htpasswd",
    "/%2ehtpasswd",
    "/link-out",
    "/dir-out/secret",
    "/dir-out/",
    "/dangling",
    "/fifo",
    "/sock",
    "/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/sub%2f..%2f..%2fsecret",
    "/" + "..%2f" * 12 + "etc/passwd",
    "/%c0%ae%c0%ae/secret",
    "/sub/%2e%2e/%2e%2e/secret",
]


@pytest.mark.parametrize("target", ATTACKS)
def test_traversal_attacks_are_refused(docroot, target):
    """No hostile path ever reaches a file outside the root or a hidden one."""
    sockPath = str(docroot / "sock")
    if not os.path.exists(sockPath):
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(sockPath)
        listener.close()
    with served(static.File(str(docroot))) as port:
        t0 = time.monotonic()
        status, data = rawStatus(port, target)
        assert time.monotonic() - t0 < 4, "the server took too long: it may have hung"
    assert MARKER.encode() not in data, target
    assert b"root:" not in data, target
    assert status in (400, 403, 404), (target, data[:200])


def test_dotfiles_served_when_allowed(docroot):
    """allowDotfiles=True lists and serves dotfiles; links out stay refused."""
    write(docroot / ".well-known" / "x.txt", "known\n")
    with served(static.File(str(docroot), allowDotfiles=True)) as port:
        assert get(port, "/.well-known/x.txt")[2] == b"known\n"
        assert b'href=".htpasswd"' in get(port, "/")[2]
        assert get(port, "/link-out")[0] == 404


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files anyway")
def test_unreadable_file_is_403(docroot):
    """A file the server may not read gives 403."""
    write(docroot / "locked.txt", MARKER, mode=0)
    with served(static.File(str(docroot))) as port:
        status, _, body = get(port, "/locked.txt")
    assert status == 403 and MARKER.encode() not in body


def test_non_regular_files_refused_directly(docroot):
    """A File made for a FIFO or missing path answers 403/404 without hanging."""
    root = resource.Resource()
    root.putChild("fifo", static.File(str(docroot / "fifo")))
    root.putChild("gone", static.File(str(docroot / "gone")))
    with served(root) as port:
        assert get(port, "/fifo")[0] == 403
        assert get(port, "/gone")[0] == 404
    with pytest.raises(Exception) as info:
        static.File(str(docroot / "fifo")).openForReading()
    assert getattr(info.value, "code", None) == 403
    with pytest.raises(Exception) as info:
        static.File(str(docroot / "gone")).openForReading()
    assert getattr(info.value, "code", None) == 404


def test_root_that_is_a_symlink_still_serves(tmp_path, docroot):
    """A root reached through a symlink serves its own files."""
    os.symlink(str(docroot), tmp_path / "alias")
    with served(static.File(str(tmp_path / "alias"))) as port:
        assert get(port, "/a.txt")[2] == b"alpha\n"
        assert get(port, "/link-out")[0] == 404


def test_folder_linked_inside_the_root_keeps_every_check(docroot):
    """Below a folder reached through a link that stays inside the root,
    files are served, but a hidden file (named by its real path), a link
    leaving the root and a FIFO are still refused."""
    os.symlink("sub", docroot / "alias-sub")
    write(docroot / "sub" / "refweb.log", "log line\n")
    os.symlink(str(docroot.parent / "outside"), docroot / "sub" / "out")
    os.mkfifo(docroot / "sub" / "pipe")
    root = static.File(str(docroot))
    root.hiddenPaths = frozenset([os.path.realpath(str(docroot / "sub" / "refweb.log"))])
    with served(root) as port:
        assert get(port, "/alias-sub/b.txt")[2] == b"beta\n"
        assert get(port, "/alias-sub/refweb.log")[0] == 404
        assert get(port, "/sub/refweb.log")[0] == 404
        assert get(port, "/alias-sub/out/secret")[0] == 404
        assert get(port, "/alias-sub/pipe")[0] == 404


def test_child_knows_its_real_path(docroot):
    """getChild hands each child its symlink-free path (its own children's
    checks start from it): through a link, it is the link's target."""
    os.symlink("sub", docroot / "alias-sub")
    root = static.File(str(docroot))
    assert root.getChild("sub", None).realPath == os.path.realpath(str(docroot / "sub"))
    assert root.getChild("alias-sub", None).realPath == os.path.realpath(str(docroot / "sub"))
    assert root.getChild("alias-sub", None).path == os.path.join(str(docroot), "alias-sub")


# -- the command line with curl --------------------------------------------------

def _haveRunner():
    return importlib.util.find_spec("refweb.runner") is not None


needCurl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
needRunner = pytest.mark.skipif(not _haveRunner(),
                                reason="refweb.runner (python -m refweb) does not exist yet")


@pytest.fixture
def webPath(docroot):
    """`python -m refweb -n web --path DOCROOT --listen tcp:PORT`, ready."""
    port = freePort()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "refweb", "-n", "web", "--path", str(docroot),
                             "--listen", "tcp:%d" % port], cwd=str(docroot.parent), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert proc.poll() is None, "refweb exited early"
            time.sleep(0.05)
        yield port
    finally:
        proc.kill()
        proc.wait(10)


def curl(*args):
    out = subprocess.run(["curl", "-s", "-S", "--max-time", "10", *args],
                         capture_output=True, timeout=20)
    return out.stdout


@needCurl
@needRunner
def test_curl_get_head_range_and_conditional(webPath):
    """curl GET, -I, -r 0-9 and -z against `refweb -n web --path`."""
    base = "http://127.0.0.1:%d" % webPath
    assert curl(base + "/a.txt") == b"alpha\n"
    head = curl("-I", base + "/a.txt").decode()
    assert head.startswith("HTTP/1.1 200") and "content-length: 6" in head.lower()
    assert curl("-r", "0-9", base + "/data.bin") == bytes(range(10))
    code = curl("-o", "/dev/null", "-w", "%{http_code}", "-z", "Tue, 01 Jan 2999 00:00:00 GMT",
                base + "/a.txt")
    assert code == b"304"
    code = curl("-o", "/dev/null", "-w", "%{http_code}", "-z", "Tue, 01 Jan 1980 00:00:00 GMT",
                base + "/a.txt")
    assert code == b"200"


@needCurl
def test_curl_compressed_saves_a_gz_file_as_it_is(tmp_path):
    """`curl --compressed` of a .gz file gets the gzip bytes on disk, not what they
    unpack to (a Content-Encoding would have made curl unpack them)."""
    import gzip
    packed = gzip.compress(b"the text inside\n" * 100)
    write(tmp_path / "notes.txt.gz", packed)
    with served(static.File(str(tmp_path))) as port:
        got = curl("--compressed", "http://127.0.0.1:%d/notes.txt.gz" % port)
    assert got == packed


def test_small_file_goes_out_with_its_head_and_a_large_one_through_sendfile(tmp_path, monkeypatch):
    """A body of at most Request.smallFileBytes is sent with the head in one
    write; a larger one is left to the kernel (sendfile)."""
    from refweb.internet.protocol import SocketTransport
    (tmp_path / "small.bin").write_bytes(b"s" * 4096)
    (tmp_path / "large.bin").write_bytes(b"L" * 200000)
    sent = []
    original = SocketTransport.sendFile

    def countingSendFile(self, fileobj, offset, count):
        sent.append(count)
        return original(self, fileobj, offset, count)
    monkeypatch.setattr(SocketTransport, "sendFile", countingSendFile)
    with served(static.File(str(tmp_path))) as port:
        status, _, body = get(port, "/small.bin")
        assert (status, body) == (200, b"s" * 4096) and sent == []
        status, _, body = get(port, "/large.bin")
        assert (status, body) == (200, b"L" * 200000) and sent == [200000]


def test_file_fstat_once_per_response(tmp_path, monkeypatch):
    """A file is fstat'ed once per response: the fstat that checks the
    opened file is regular also gives its size and time to the validators."""
    (tmp_path / "f.bin").write_bytes(b"x" * 4096)
    calls = []
    original = os.fstat

    def countingFstat(fd):
        calls.append(fd)
        return original(fd)
    with served(static.File(str(tmp_path))) as port:
        assert get(port, "/f.bin")[0] == 200
        monkeypatch.setattr(os, "fstat", countingFstat)
        status, headers, body = get(port, "/f.bin")
    assert (status, body) == (200, b"x" * 4096) and len(calls) == 1
