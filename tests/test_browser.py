"""A real browser reads refweb's pages: headless Chromium against a served folder.

The other listing tests read the HTML as text; these check what a browser
makes of it.  ``chromium --headless --dump-dom URL`` prints the document
after parsing, so a name that escaped its escaping would show up here as an
element, and ``--screenshot`` at a phone's width checks that the page lays
out at all.  Skipped, saying why, where Chromium is not installed
(``.ci/run`` installs Debian's ``chromium``).
"""

import collections
import os
import re
import shutil
import subprocess

import pytest

from refweb import static
from support import served


def findChromium():
    """The chromium command: /usr/bin/chromium, else one on PATH, else None."""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM = findChromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="no chromium: /usr/bin/chromium absent and none on PATH")

# No sandbox: the tests may run as root in a container, where Chromium's sandbox cannot start.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-dev-shm-usage"]


def chromium(profile, *args):
    """Run headless Chromium with a throwaway profile; its stdout as text."""
    result = subprocess.run([CHROMIUM, *FLAGS, "--user-data-dir=" + str(profile), *args],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")[-2000:]
    return result.stdout.decode("utf-8")


def dumpDOM(profile, url):
    return chromium(profile, "--dump-dom", url)


@pytest.fixture
def site(tmp_path):
    """A folder with files of three sizes, a subfolder and a hostile name."""
    root = tmp_path / "site"
    (root / "sub folder").mkdir(parents=True)
    (root / "sub folder" / "inner.txt").write_text("inner\n")
    (root / "small.txt").write_text("hi\n")
    (root / "big.bin").write_bytes(b"\0" * (3 << 20))
    (root / "<script>alert(1)<").write_text("hostile\n")
    for name, mtime in (("small.txt", 1000000000), ("big.bin", 1100000000),
                        ("<script>alert(1)<", 1200000000)):
        os.utime(root / name, (mtime, mtime))
    return root


def rowLinks(dom):
    """The href of every row in a rendered listing, top to bottom."""
    return re.findall(r'<td class="name"(?: colspan="4")?><a href="([^"]*)"', dom)


def test_browser_renders_the_listing(site, tmp_path):
    """Chromium's DOM of a listing has the rows in order, the sort links, no
    script element, and the hostile name as text."""
    with served(static.File(str(site))) as port:
        dom = dumpDOM(tmp_path / "profile", "http://127.0.0.1:%d/" % port)
    assert "<title>Directory listing for /</title>" in dom
    assert rowLinks(dom) == ["sub%20folder/", "%3Cscript%3Ealert%281%29%3C", "big.bin", "small.txt"]
    assert '<a href="?sort=size&amp;order=asc">Size</a>' in dom
    assert '<a href="?sort=name&amp;order=desc">Name \u25b2</a>' in dom
    assert "<script" not in dom and "&lt;script&gt;alert(1)&lt;</a>" in dom
    assert 'rel="up"' not in dom  # the top of the site has no parent
    assert '<td class="size" title="3145728 bytes">3M</td>' in dom


def test_browser_follows_sort_and_parent_links(site, tmp_path):
    """A sorted listing and a subfolder's listing, as Chromium renders them."""
    profile = tmp_path / "profile"
    with served(static.File(str(site))) as port:
        bySize = dumpDOM(profile, "http://127.0.0.1:%d/?sort=size&order=desc" % port)
        byDate = dumpDOM(profile, "http://127.0.0.1:%d/?sort=date" % port)
        sub = dumpDOM(profile, "http://127.0.0.1:%d/sub%%20folder/" % port)
    assert rowLinks(bySize) == ["sub%20folder/", "big.bin", "%3Cscript%3Ealert%281%29%3C", "small.txt"]
    assert rowLinks(byDate) == ["sub%20folder/", "small.txt", "big.bin", "%3Cscript%3Ealert%281%29%3C"]
    assert 'aria-sort="descending"' in bySize
    assert rowLinks(sub) == ["../", "inner.txt"]
    assert '<a href="../" rel="up">../ (parent folder)</a>' in sub
    assert "<h1>Directory listing for /sub folder/</h1>" in sub


def test_browser_renders_the_404_page(site, tmp_path):
    """A missing file's page, rendered: the status, what to try, a way home."""
    with served(static.File(str(site))) as port:
        dom = dumpDOM(tmp_path / "profile", "http://127.0.0.1:%d/no-such-file" % port)
    assert "<title>404 No Such Resource</title>" in dom
    assert "<h1>404 No Such Resource</h1>" in dom
    assert "<strong>What to try.</strong> Check the address" in dom
    assert '<a href="/">The front page of this site</a>' in dom


def test_browser_screenshot_at_phone_width(site, tmp_path):
    """A 400x800 screenshot of the listing is a real PNG of some size."""
    shot = tmp_path / "phone.png"
    with served(static.File(str(site))) as port:
        chromium(tmp_path / "profile", "--screenshot=" + str(shot), "--window-size=400,800",
                 "--hide-scrollbars", "http://127.0.0.1:%d/" % port)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (400, 800)
    assert len(data) > 8000  # a page with one heading compresses to about 3,000 bytes


# --------------------------------------------------------------------------
# the documentation site (docs/conf.py), served by refweb itself
# --------------------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def docsPython():
    """A Python with Sphinx and myst-nb: the scratch environment .ci/run keeps."""
    venv = os.environ.get("REFWEB_DOCS_VENV",
                          os.path.join(os.path.expanduser("~"), ".cache", "refweb-docs-venv"))
    python = os.path.join(venv, "bin", "python")
    if not os.access(python, os.X_OK):
        return None
    found = subprocess.run([python, "-c", "import sphinx, myst_nb"], capture_output=True)
    return python if found.returncode == 0 else None


@pytest.fixture(scope="module")
def docsSite(tmp_path_factory):
    """The built site: REFWEB_DOCS_HTML if set (.ci/run sets it), else built
    now with the docs environment's Sphinx; skipped when there is neither."""
    html = os.environ.get("REFWEB_DOCS_HTML")
    if html:
        assert os.path.isfile(os.path.join(html, "index.html")), html
        return html
    python = docsPython()
    if python is None:
        pytest.skip("no built site: REFWEB_DOCS_HTML is not set and no Python with Sphinx "
                    "and myst-nb in REFWEB_DOCS_VENV or ~/.cache/refweb-docs-venv")
    html = str(tmp_path_factory.mktemp("docs") / "html")
    built = subprocess.run([python, "-m", "sphinx", "-q", "-b", "html", "docs", html],
                           cwd=ROOT, capture_output=True, timeout=300)
    assert built.returncode == 0, built.stderr.decode("utf-8", "replace")[-2000:]
    return html


def test_browser_reads_the_docs_site(docsSite, tmp_path):
    """The built site, served by `refweb -n web --path` as README says: the
    index, a guide chapter linking its API page, the API page linking its
    source, and a notebook page with its committed outputs, as Chromium sees them."""
    from test_runner import foreground
    from support import freePort
    port = freePort()
    profile = tmp_path / "profile"
    with foreground("--pidfile", "", "web", "--path", docsSite,
                    "--listen", "tcp:%d:interface=127.0.0.1" % port, cwd=tmp_path, port=port):
        url = "http://127.0.0.1:%d/" % port
        index = dumpDOM(profile, url)
        chapter = dumpDOM(profile, url + "guide/01-resource-trees.html")
        api = dumpDOM(profile, url + "api/refweb.resource.html")
        notebook = dumpDOM(profile, url + "tutorial/03-Resource-Trees.html")
    assert "<h1>refweb: the Twisted Web server, rebuilt to be read" in index
    assert 'href="tutorial.html"' in index and 'href="api.html"' in index
    assert "<h1>1. Sites, resources and resource trees" in chapter
    assert 'href="../api/refweb.resource.html#module-refweb.resource"' in chapter
    assert 'href="../_modules/refweb/resource.html#getChildForRequest"' in api
    assert "<h1>03 · Resource trees" in notebook
    assert 'class="cell_output docutils container"' in notebook  # outputs as committed


# --------------------------------------------------------------------------
# HTTP/2 over TLS: a page, its stylesheet and images on one connection
# --------------------------------------------------------------------------

def png(width, height, rgb=(200, 40, 40)):
    """A solid-colour PNG of this size (8-bit RGB, one IDAT chunk)."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# The page writes what the browser measured into the DOM, for --dump-dom to print.
H2_PAGE = """<!DOCTYPE html>
<html><head><title>h2</title><link rel="stylesheet" href="style.css"></head>
<body>%s
<pre id="report"></pre>
<script>
window.addEventListener("load", function () {
  var lines = ["page " + performance.getEntriesByType("navigation")[0].nextHopProtocol];
  performance.getEntriesByType("resource").forEach(function (entry) {
    lines.push("resource " + entry.name.split("/").pop() + " " + entry.nextHopProtocol);
  });
  document.querySelectorAll("img").forEach(function (img) {
    lines.push("image " + img.getAttribute("src") + " " + img.naturalWidth);
  });
  lines.push("color " + getComputedStyle(document.body).color);
  document.getElementById("report").textContent = lines.join("\\n");
});
</script></body></html>
"""
IMAGES = ["img%d.png" % n for n in range(6)]


@pytest.fixture
def h2site(tmp_path):
    """A page with a stylesheet and six images."""
    root = tmp_path / "h2site"
    root.mkdir()
    tags = "".join('<img src="%s">' % name for name in IMAGES)
    (root / "index.html").write_text(H2_PAGE % tags)
    (root / "style.css").write_text("body { color: rgb(1, 2, 3); }\n")
    for n, name in enumerate(IMAGES):
        (root / name).write_bytes(png(10 + n, 10))
    return root


class Recording(static.File):
    """static.File that notes, for each request, the protocol and the client's port."""

    seen = None

    def render(self, request):
        self.seen.append((request.path, request.clientproto, request.getClientAddress().port))
        return static.File.render(self, request)


def test_browser_loads_a_page_over_h2(h2site, certfiles, tmp_path):
    """Headless Chromium over TLS chooses HTTP/2 by ALPN: the page, its
    stylesheet and its images all come over "h2", the images decode, and
    the server saw them as streams of one connection."""
    from refweb.internet import reactor
    from refweb.internet.endpoints import sslContext
    from refweb import server as webserver
    cert, key = certfiles
    seen = []
    Recording.seen = seen
    site = webserver.Site(Recording(str(h2site)))
    port = reactor.listenSSL(0, site, sslContext(key, cert), interface="127.0.0.1")
    try:
        dom = chromium(tmp_path / "profile", "--ignore-certificate-errors",
                       "--virtual-time-budget=5000", "--dump-dom",
                       "https://127.0.0.1:%d/index.html" % port.getHost().port)
    finally:
        port.stopListening()
    report = re.search(r'<pre id="report">(.*?)</pre>', dom, re.S).group(1).splitlines()
    assert "page h2" in report, report
    for name in ["style.css"] + IMAGES:
        assert "resource %s h2" % name in report, report
    for n, name in enumerate(IMAGES):
        assert "image %s %d" % (name, 10 + n) in report, report
    assert "color rgb(1, 2, 3)" in report  # the stylesheet applied
    served = [entry for entry in seen if entry[0] != "/favicon.ico"]
    assert {proto for _, proto, _ in served} == {"HTTP/2"}
    ports = collections.Counter(clientPort for _, _, clientPort in served)
    assert max(ports.values()) >= 1 + 1 + len(IMAGES)  # one connection carried them all
