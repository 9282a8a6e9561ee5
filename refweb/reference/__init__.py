# -*- test-case-name: tests.test_reference -*-
"""refweb.reference: the guide's behaviour as a black-box suite for any HTTP server.

Each behaviour is one rule a reader of the guide can name (a guide section,
or an RFC 9110 / 9112 / 3875 or PEP 3333 clause), checked over a raw socket
against a small example site.  The sites are written once, against refweb's
names (``sites/``); adapters start them on refweb, on Twisted Web (the same
files, with module names mapped by ``launch.RENAMES``), or a learner's own
server (a command that serves ``fixture/``).

    python -m refweb.reference --impl refweb --impl twisted
    python -m refweb.reference --http2        # the protocol-independent ones over HTTP/2

Modules: cli (the command), suite (registry and runner), report (the
report and tables), ladder (the rungs of "Write your own server"), adapters
(starting servers), launch (runs one site in a subprocess), client
(the strict raw-socket client), h2client (its HTTP/2 twin, on refweb's own
frame and HPACK codecs), protocols (which behaviours are HTTP/1.1 only),
behaviours/ (the tests, one module per
chapter), sites/ (the example sites), fixture/ (the files they serve).
Only the standard library is used.
"""
