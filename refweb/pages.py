# -*- test-case-name: tests.test_pages -*-
"""The one look every page refweb makes itself shares: error pages and
directory listings.

Guide: "Resource rendering" -- a failure becomes a page -- and "Serving
Flat HTML", whose folders without an index are listed.

Where it sits in a request's journey: at the very end, when a body is
written that no resource wrote.  ``error.pageResponse`` turns an
``error.Error`` into headers and ``page``'s HTML (every error: a parser's,
a resource's, a proxy's, a CGI script's); ``resource.ErrorPage`` renders
``page`` itself; ``static``'s directory listing puts its table under
``HEAD`` with ``STYLE`` plus its own rules.  Start reading at ``page``.

Nothing here knows HTTP: these are strings and a function that fills them,
HTML-escaping every text it is given.
"""

import html

# Plain CSS, no JavaScript; the viewport line and the max-width keep it
# readable on a phone.
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; padding: 0 1em; max-width: 60em;
       color: #222; background: #fff; line-height: 1.4 }
h1 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: .3em; overflow-wrap: anywhere }
a { color: #0645ad; text-decoration: none } a:hover { text-decoration: underline }
p.hint { color: #555 } footer { margin-top: 2em; color: #777; font-size: .85em }
"""

HEAD = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>%(title)s</title>\n<style>%(style)s</style></head>\n")

# What a reader of an error page can do about it, by status (RFC 9110 §15).
HINTS = {
    400: "If you typed the address, check it; if a program sent this request, the program needs fixing.",
    403: "Check the address; this server does not show what is there.",
    404: "Check the address for a typing mistake, or look in the folder above it.",
    405: "This address does not take that kind of request; the Allow header lists those it takes.",
    408: "Send the request again; the server waits only so long for it.",
    411: "Send the body again with a Content-Length header.",
    413: "Send a smaller body.",
    414: "Use a shorter address; long data belongs in the body of a POST.",
    416: "Ask for a range that lies inside the file, or for the whole file.",
    417: "Send the request again without its Expect header.",
    431: "Send fewer or shorter header lines (large cookies are the usual cause).",
    500: "Try again later; if it keeps happening, tell the site's owner: the server log has the details.",
    501: "The server does not do this; a plain GET, HEAD or POST may work.",
    502: "The server behind this one did not answer properly; try again in a moment.",
    503: "Try again in a moment.",
    504: "The server behind this one took too long; try again in a moment.",
    505: "Send the request as HTTP/1.1 or HTTP/1.0.",
}


def hint(code):
    """What to try after an error with status ``code``: one sentence."""
    if code in HINTS:
        return HINTS[code]
    return "Check the request and try again." if code < 500 else "Try again later."


PAGE = HEAD + """<body><h1>%(code)d %(brief)s</h1>
%(detail)s<p class="hint"><strong>What to try.</strong> %(hint)s</p>
<p><a href="/">The front page of this site</a></p>
<footer>refweb</footer>
</body></html>
"""


def page(code, brief, detail=""):
    """The HTML error page every part of refweb sends; text is escaped here.

    It says what happened (the status, and ``detail`` when there is one) and
    what to try (``hint(code)``), with a link to the site's front page, in the
    look of the directory listings.
    """
    brief = html.escape(brief)
    return PAGE % {"title": "%d %s" % (code, brief), "style": STYLE, "code": code,
                   "brief": brief, "detail": "<p>%s</p>\n" % html.escape(detail) if detail else "",
                   "hint": html.escape(hint(code))}
