# -*- test-case-name: tests.test_reference -*-
"""Which behaviours are HTTP/1.1 only, and why: the table ``--http2`` reads.

Guide: not in the guide (the guide's server speaks HTTP/1.1; Twisted and
refweb answer HTTP/2 too, see ``refweb/h2``).

Most behaviours send one request and check the status, headers and body;
those ask the same question over HTTP/2 (``python -m refweb.reference
--http2``).  The rest test HTTP/1.1 itself -- its message framing,
connection reuse, chunked bodies, the ``Connection`` field, raw bytes a
parser must refuse, HTTP/1.0 -- which HTTP/2 replaces with frames (RFC 9113
§8.1: "HTTP/2 ... does not use the chunked transfer encoding"; §8.2.2: no
connection-specific fields).  ``HTTP11_ONLY`` lists them, the reason first
so the table reads as a list of reasons; the report folds them into one
"HTTP/1.1 only" line per chapter.

Where it sits: cli -> suite.runAll(http2=...) -> protocols (what not to run).
Start reading at ``REASONS``.
"""

#: Why a behaviour has no HTTP/2 equivalent -> the behaviours it covers.
REASONS = {
    # RFC 9112 §3, §5: HTTP/2 sends pseudo-fields and HPACK blocks, no text to misparse
    "request-line and header syntax": [
        "framing.status_line_http11", "framing.missing_host_400", "framing.two_hosts_400",
        "framing.garbage_request_line_400", "framing.space_before_colon_400",
        "framing.leading_empty_line_ignored", "framing.request_line_too_long",
        "framing.header_block_too_large", "framing.obs_fold_refused_or_unfolded",
    ],
    # RFC 9113 §8.2.1: a value with spaces at either end is malformed in HTTP/2
    "spaces around a field value": [
        "framing.header_value_ows_trimmed",
    ],
    # RFC 9113 §8.3.1: a request names no version
    "HTTP/1.0": [
        "framing.http10_answered_as_11", "framing.http10_closes", "encoders.gzip_to_http10",
        "rendering.stream_not_chunked_on_http10", "vhosts.vhost_http10_no_host_default",
    ],
    # an as-is file holds an HTTP/1.x status line and header block, sent as they are
    "as-is files": [
        "asis.asis_body", "asis.asis_headers", "asis.asis_status", "asis.asis_on_http11",
    ],
    # RFC 9112 §6.3: checked by the pipelined response after it; HTTP/2's END_STREAM says it
    "no body after HEAD or 304": [
        "rendering.head_has_no_body", "static.head_of_file", "static.if_modified_since_same_304",
    ],
    # RFC 9112 §9; RFC 9113 §8.2.2: HTTP/2 has no connection-specific fields
    "keep-alive, Connection": [
        "framing.keepalive_default_http11", "framing.connection_close_honoured",
        "framing.connection_close_case_insensitive", "framing.big_response_then_next",
        "encoders.gzip_framed_on_keepalive", "proxies.reverse_keepalive_twice",
        "proxies.reverse_connection_options_removed", "wsgi.keepalive_two_requests",
    ],
    # RFC 9112 §9.3.2: HTTP/2 multiplexes streams instead
    "pipelining": [
        "framing.pipelined_in_order", "framing.pipelined_split_across_sends",
        "framing.pipelined_many", "framing.pipelined_head_then_get",
        "framing.close_after_last_pipelined", "framing.pipelined_slow_then_fast",
    ],
    # RFC 9112 §6, §7; RFC 9113 §8.1: DATA frames and END_STREAM frame an HTTP/2 body
    "body framing": [
        "framing.content_length_body", "framing.chunked_body_decoded",
        "framing.chunk_extensions_ignored", "framing.chunked_trailer_accepted",
        "framing.chunked_hex_sizes", "framing.chunked_then_pipelined",
        "framing.bad_chunk_size_400", "framing.unread_body_skipped", "framing.large_body",
        "framing.invalid_content_length_400", "framing.conflicting_content_lengths_400",
        "framing.te_and_cl_not_both", "framing.unknown_transfer_coding_501",
        "framing.expect_100_continue", "rendering.stream_chunked_on_http11",
    ],
}

#: behaviour name -> the reason it is HTTP/1.1 only (the table above, turned round).
HTTP11_ONLY = {name: reason for reason, names in REASONS.items() for name in names}
