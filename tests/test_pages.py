"""Tests for refweb.pages: the one look of the pages refweb makes itself.

``page`` is checked as text; ``tests/test_error.py`` checks that every error
raised while serving arrives as exactly this page, and ``tests/test_static.py``
the listings.
"""

import html

import pytest

from refweb import error, listing, pages


def test_page_has_the_exact_shape():
    """page() says what happened and what to try, with a way back, in the listings' look."""
    assert pages.page(404, "Not Found", "No such thing.") == (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<title>404 Not Found</title>\n<style>' + pages.STYLE + '</style></head>\n'
        '<body><h1>404 Not Found</h1>\n<p>No such thing.</p>\n'
        '<p class="hint"><strong>What to try.</strong> Check the address for a typing mistake, '
        'or look in the folder above it.</p>\n'
        '<p><a href="/">The front page of this site</a></p>\n'
        '<footer>refweb</footer>\n</body></html>\n')


def test_page_escapes_brief_and_detail():
    """HTML in the brief or the detail is escaped, so a message cannot inject markup."""
    text = pages.page(400, "<b>Bad</b>", "<script>alert('x')</script> & \"q\"")
    assert "<b>" not in text and "<script>" not in text
    assert "<title>400 &lt;b&gt;Bad&lt;/b&gt;</title>" in text
    assert "<p>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;</p>" in text


def test_page_without_detail():
    """A page with no detail has no detail paragraph; the heading and the hint remain."""
    for detail in ("", None):
        text = pages.page(500, "Internal Server Error", detail)
        assert "</h1>\n<p class=\"hint\"><strong>What to try.</strong> Try again later;" in text


@pytest.mark.parametrize("code", sorted(pages.HINTS) + [418, 599])
def test_page_hint_for_every_status(code):
    """Every status gets one sentence of what to try; unknown ones a generic one by class."""
    sentence = pages.hint(code)
    assert sentence.endswith(".") and sentence[0].isupper()
    assert html.escape(sentence) in pages.page(code, "X")
    if code not in pages.HINTS:
        assert sentence == ("Check the request and try again." if code < 500 else "Try again later.")


def test_page_shares_the_listing_look():
    """Error pages and directory listings use the same stylesheet and viewport line."""
    from refweb import static
    assert listing._LISTING_STYLE.startswith(pages.STYLE)
    assert pages.page(404, "Not Found").startswith(
        pages.HEAD % {"title": "404 Not Found", "style": pages.STYLE})
    lister = static.DirectoryLister(".", [])
    assert lister.render_GET(_Request("/a/")).startswith(
        pages.HEAD % {"title": "Directory listing for /a/", "style": listing._LISTING_STYLE})


class _Request:
    """Just what DirectoryLister.render_GET reads and writes."""

    def __init__(self, path):
        self.path, self.args, self.headers = path, {}, {}

    def setHeader(self, name, value):
        self.headers[name] = value


def test_pageResponse_sends_the_page_with_its_length():
    """error.pageResponse answers an Error with pages.page's HTML, its type and its length."""
    headers, body = error.pageResponse(error.NotFound("nothing <here>"))
    assert body == pages.page(404, "Not Found", "nothing <here>").encode("utf-8")
    assert headers == [("Content-Type", "text/html; charset=utf-8"),
                       ("Content-Length", str(len(body)))]
