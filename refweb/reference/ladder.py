# -*- test-case-name: tests.test_ladder -*-
"""The ladder: the exercises of "Write your own server", in order, defined once.

Guide: not in the guide (docs/guide/write-your-own-server.rst and
tutorial/14-Write-Your-Own-Server.ipynb teach it).  A learner starts from
``docs/examples/learner_server.py`` (stage 0) and climbs one rung at a time;
each rung is a few behaviours of the reference suite, named here, and
``docs/examples/ladder/`` holds the server as it is after each rung, so a
stuck learner can diff their server against the next stage.

This table is the only numbering: the docs page, notebook 14 and the
report's "ladder" lines all take theirs from ``RUNGS`` (tests/test_ladder.py
checks the page against it, and runs each stage against its rung and the
next).  Start reading at ``RUNGS``; ``rungOf`` and ``hintFor`` are what
report.py asks.

Part of refweb.reference: report -> ladder (which rung a behaviour is on, what to try next).
"""

import difflib
import os

#: Where the stages are, relative to the checkout (stage 0 is learner_server.py).
EXAMPLES = os.path.join("docs", "examples")


class Rung:
    """One exercise: a number, a title, the behaviours it asks for, advice, and its stage file."""

    def __init__(self, number, title, stage, names, hint):
        self.number = number
        self.title = title
        self.stage = stage
        self.names = tuple(names)
        self.hint = " ".join(hint.split())

    def __repr__(self):
        return "<Rung %d %s>" % (self.number, self.title)

    @property
    def label(self):
        """'rung 2, Keep-alive and pipelining'."""
        return "rung %d, %s" % (self.number, self.title)


RUNGS = [
    Rung(0, "The tree and the files", "learner_server.py", [
        "trees.root_has_empty_segment", "trees.putChild_child_found",
        "trees.second_child_found", "trees.trailing_slash_empty_segment",
        "trees.trailing_slash_on_bob", "trees.query_not_in_segments",
        "trees.segments_percent_decoded", "trees.double_slash_two_empty_segments",
        "trees.empty_segments_after_child", "trees.unknown_child_404",
        "trees.grandchild_missing_404", "trees.path_case_sensitive",
        "trees.absolute_form_target", "trees.head_of_tree_page",
        "static.file_served_exactly", "static.type_from_extension_txt",
        "static.type_from_extension_css", "static.type_from_extension_html",
        "static.unknown_extension_default_type", "static.missing_file_404",
        "static.percent_encoded_name", "static.dotdot_does_not_escape",
        "static.encoded_slash_does_not_escape", "framing.status_line_http11",
        "framing.http10_answered_as_11",
    ], """Walk the path one segment at a time as Resource.getChild does (an empty segment
    stays where it is); serve a file by name from {root}, never from outside it, with
    Content-Length equal to its size and a type guessed from its extension."""),
    Rung(1, "Framing: a correct response, a refused request", "ladder/stage1_framing.py", [
        "framing.date_header_sent", "framing.missing_host_400", "framing.two_hosts_400",
        "framing.garbage_request_line_400", "framing.space_before_colon_400",
        "framing.leading_empty_line_ignored", "framing.request_line_too_long",
        "framing.header_block_too_large", "framing.obs_fold_refused_or_unfolded",
    ], """Send Date on every response (RFC 9110 §6.6.1: email.utils.formatdate(usegmt=True));
    look at the request before answering it: an HTTP/1.1 request needs exactly one Host
    (RFC 9112 §3.2), a space before a header's colon is 400 (§5.1), empty lines before the
    request line are skipped (§2.2), and a header block past your limit is refused."""),
    Rung(2, "Keep-alive and pipelining", "ladder/stage2_keepalive.py", [
        "framing.keepalive_default_http11", "framing.http10_closes",
        "framing.connection_close_honoured", "framing.connection_close_case_insensitive",
        "framing.pipelined_in_order", "framing.pipelined_split_across_sends",
        "framing.pipelined_many", "framing.pipelined_head_then_get",
        "framing.close_after_last_pipelined", "static.head_of_file",
    ], """After answering, your server closed the connection; HTTP/1.1 keeps it open unless
    the request said Connection: close (RFC 9112 §9.3), so read the next request on the
    same socket, from the bytes already buffered, and answer in order. Close after an
    HTTP/1.0 request or Connection: close, and send Connection: close only then."""),
    Rung(3, "Static files: folders and conditional requests", "ladder/stage3_static.py", [
        "static.directory_index_served", "static.subfolder_index_served",
        "static.folder_without_slash_redirects", "static.listing_names_files",
        "static.listing_escapes_names", "static.last_modified_sent",
        "static.if_modified_since_same_304", "static.if_modified_since_old_200",
        "static.if_modified_since_invalid_ignored", "static.if_none_match_overrides_ims",
        "static.if_none_match_etag_304", "static.if_none_match_other_200",
    ], """For a folder, serve its index.html, or else a listing that links every name,
    escaped (html.escape); redirect a folder asked for without its final slash; send
    Last-Modified and an ETag, and answer 304 with no body when If-None-Match holds that
    tag or, with no If-None-Match, If-Modified-Since is not older than the file
    (RFC 9110 §13.1)."""),
    Rung(4, "Ranges", "ladder/stage4_ranges.py", [
        "static.accept_ranges_bytes", "static.range_first_bytes", "static.range_middle",
        "static.range_open_ended", "static.range_suffix", "static.range_past_end_clipped",
        "static.range_unsatisfiable_416", "static.range_invalid_ignored",
        "static.range_unknown_unit_ignored", "static.range_multiple_multipart",
        "static.if_range_matching_date_206", "static.if_range_old_date_200",
        "static.range_on_head",
    ], """Send Accept-Ranges: bytes; read Range: bytes=first-last, first- and -suffix
    (RFC 9110 §14.1.2) and answer 206 with Content-Range: bytes first-last/size, 416 with
    bytes */size when no range is in the file, the whole file (200) for a Range you cannot
    parse, multipart/byteranges for several ranges, and ignore Range when If-Range does
    not match the file's date."""),
    Rung(5, "Request bodies: the echo site and Content-Length", "ladder/stage5_bodies.py", [
        "framing.content_length_body", "framing.unread_body_skipped", "framing.large_body",
        "framing.invalid_content_length_400", "framing.conflicting_content_lengths_400",
        "framing.expect_100_continue", "framing.pipelined_slow_then_fast",
        "framing.big_response_then_next", "framing.header_value_ows_trimmed",
    ], """Serve the echo site (/body, /header, /slow, /fast, /big, /ignore: see the guide
    page); after the head, read exactly Content-Length bytes, even when the resource does
    not want them, so the next request starts where the body ended (RFC 9112 §6.2, §6.3);
    answer 400 to a Content-Length that is not one number, and send 100 Continue before
    reading a body the client waits to send (RFC 9110 §10.1.1)."""),
    Rung(6, "Chunked request bodies", "ladder/stage6_chunked.py", [
        "framing.chunked_body_decoded", "framing.chunk_extensions_ignored",
        "framing.chunked_trailer_accepted", "framing.chunked_hex_sizes",
        "framing.chunked_then_pipelined", "framing.bad_chunk_size_400",
        "framing.te_and_cl_not_both", "framing.unknown_transfer_coding_501",
    ], """With Transfer-Encoding: chunked, read chunks until one of size 0: a size line in
    hexadecimal (drop any ;extension), that many bytes, CRLF; then trailer lines up to an
    empty line (RFC 9112 §7.1). Answer 400 to a size that is not hexadecimal, 501 to a
    coding you do not know, and 400 to a request with both Transfer-Encoding and
    Content-Length (or read it as chunked and close after answering: §6.1)."""),
]

#: Advice for one behaviour, where its rung's advice is too general.
HINTS = {
    "framing.date_header_sent": """Add a Date header to every response, in IMF-fixdate
        form: email.utils.formatdate(usegmt=True) (RFC 9110 §6.6.1).""",
    "framing.missing_host_400": """Before answering, count the Host fields: an HTTP/1.1
        request with none is answered 400 (RFC 9112 §3.2).""",
    "framing.two_hosts_400": """Keep every header line, not only the last of each name: a
        request with two Host fields is answered 400 (RFC 9112 §3.2).""",
    "framing.space_before_colon_400": """Check each header line: a space or tab between the
        name and the colon makes the request invalid, 400 (RFC 9112 §5.1).""",
    "framing.leading_empty_line_ignored": """Skip empty lines (a lone CRLF) where you expect
        a request line, instead of taking them as a bad request (RFC 9112 §2.2).""",
    "framing.header_block_too_large": """Count the bytes of the header block while you read
        it and stop past a limit of your own (say 64 KiB) with 431 or 400.""",
    "framing.pipelined_split_across_sends": """A request can arrive in pieces of a few bytes:
        read lines from a buffered stream (rfile), not one recv() per request.""",
    "framing.http10_closes": """An HTTP/1.0 request without Connection: keep-alive ends the
        connection: answer it, then close (RFC 9112 §9.3).""",
    "framing.connection_close_honoured": """After answering a request that says Connection:
        close, close the connection (RFC 9112 §9.6).""",
    "framing.connection_close_case_insensitive": """Compare connection options without case:
        "Close" is "close" (RFC 9110 §7.6.1).""",
    "static.head_of_file": """Keep the connection open after a HEAD and send no body with it,
        but the Content-Length GET would have (RFC 9110 §9.3.2).""",
    "static.listing_escapes_names": """Escape each file name with html.escape before putting it
        in the listing, in the link and in its text.""",
    "static.folder_without_slash_redirects": """A folder asked for without its final slash gets
        a redirect (301) whose Location is the same path with the slash added.""",
    "static.if_none_match_etag_304": """Send an ETag made from the file's size and time (say
        "size-mtime", quoted) and answer 304 when If-None-Match names it.""",
    "static.range_multiple_multipart": """For two ranges answer 206 with Content-Type:
        multipart/byteranges; boundary=B and one part per range, each with its own
        Content-Range (RFC 9110 §14.6).""",
    "framing.expect_100_continue": """When the request says Expect: 100-continue, write
        "HTTP/1.1 100 Continue" and an empty line before reading the body.""",
    "framing.unread_body_skipped": """Read (and drop) the body of a request the resource did
        not read, or its bytes will be taken for the next request.""",
    "framing.header_value_ows_trimmed": """Strip spaces and tabs around a header value before
        handing it to the resource (RFC 9110 §5.5).""",
}

_BY_NAME = {name: rung for rung in RUNGS for name in rung.names}


def rungOf(name):
    """The Rung that asks for behaviour ``name``, or None if it is not on the ladder."""
    return _BY_NAME.get(name)


def rung(number):
    """The Rung numbered ``number`` (ValueError if there is none)."""
    for candidate in RUNGS:
        if candidate.number == number:
            return candidate
    raise ValueError("no rung %r: the ladder has rungs 0 to %d" % (number, RUNGS[-1].number))


def hintFor(name):
    """What to try next when behaviour ``name`` fails: its own advice, else its rung's."""
    if name in HINTS:
        return " ".join(HINTS[name].split())
    found = rungOf(name)
    return found.hint if found else None


def namesUpTo(number):
    """The behaviours of rungs 0 to ``number``, in ladder order."""
    return [name for rung in RUNGS if rung.number <= number for name in rung.names]


def stagePath(rung, checkout):
    """The stage file of ``rung`` (the server as it is once that rung is climbed)."""
    return os.path.join(checkout, EXAMPLES, rung.stage)


def stageDiff(rung, checkout):
    """What climbing ``rung`` changed: the unified diff from the stage before it to its own."""
    before = RUNGS[rung.number - 1]
    texts = []
    for each in (before, rung):
        with open(stagePath(each, checkout), encoding="utf-8") as f:
            texts.append(f.read().splitlines(keepends=True))
    return "".join(difflib.unified_diff(texts[0], texts[1], before.stage, rung.stage))


def diffPath(rung, checkout):
    """Where the docs keep ``stageDiff(rung)``: beside the stage file, ending in .diff."""
    return os.path.splitext(stagePath(rung, checkout))[0] + ".diff"


def writeDiffs(checkout):
    """Write each rung's .diff after a stage file changed (tests/test_docs.py compares them)."""
    for rung in RUNGS[1:]:
        with open(diffPath(rung, checkout), "w", encoding="utf-8") as f:
            f.write(stageDiff(rung, checkout))
