# -*- test-case-name: tests.test_reference -*-
"""Start one reference site in this process, for refweb or for Twisted Web.

Run as ``python -m refweb.reference.launch IMPL SITEFILE ROOT``.  ``IMPL`` is
``refweb`` or ``twisted``.  The site file (``refweb/reference/sites/*.py``) is
written once, against refweb's names; for Twisted its text goes through
``RENAMES`` first -- the one table that maps refweb's module names to
Twisted's, the reverse of the contract's import rule -- and any further
attempt to import refweb is refused, so a name the table misses fails loudly
instead of quietly running refweb's code.

A site file defines ``makeResource(root, info)`` (served by a ``Site``) or
``makeFactory(root, info)`` (a whole protocol factory, for the forward
proxy).  ``root`` is the site's own copy of the fixture folder; ``info`` is a
dict the site may fill (a backend's port, say).  The launcher listens on a
free port of 127.0.0.1 and prints one line, ``REFWEB-REFERENCE {json}``,
with ``port`` and ``info``, for the adapter that started it.  With
``$REFWEB_REFERENCE_TLS`` set to ``KEY:CERT`` (two PEM files) it listens
with TLS instead, where ALPN may choose HTTP/2 (``--http2 tls``).

Part of refweb.reference: adapters -> launch (a subprocess) -> the site file.
"""

import importlib.abc
import json
import os
import re
import sys

#: refweb's name -> Twisted's name, longest first: the whole mapping.
RENAMES = [
    ("refweb.internet", "twisted.internet"),
    ("refweb.python", "twisted.python"),
    ("refweb.application", "twisted.application"),
    ("refweb", "twisted.web"),
]

_NAME = re.compile(r"\brefweb(?:\.(?:internet|python|application))?\b")


def translate(source):
    """``source`` with every refweb module name replaced by Twisted's (per RENAMES)."""
    table = dict(RENAMES)
    return _NAME.sub(lambda match: table[match.group(0)], source)


class _RefuseRefweb(importlib.abc.MetaPathFinder):
    """Under Twisted, a site that still imports refweb is a mistake in RENAMES: refuse it."""

    def find_spec(self, name, path=None, target=None):
        if name == "refweb" or name.startswith("refweb."):
            raise ImportError("%s imported while running under Twisted" % name)
        return None


def loadSite(impl, path):
    """Execute the site file at ``path`` (translated for ``impl``) and return its namespace."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    if impl == "twisted":
        source = translate(source)
    namespace = {"__name__": "refweb_reference_site", "__file__": path}
    exec(compile(source, path, "exec"), namespace)
    return namespace


def listen(impl, reactor, factory, tls):
    """Listen on a free port of 127.0.0.1: TCP, or TLS with ``tls`` = ``"KEY:CERT"``."""
    if not tls:
        return reactor.listenTCP(0, factory, interface="127.0.0.1")
    key, cert = tls.split(":", 1)
    if impl == "twisted":  # CertificateOptions asks the Site which protocols ALPN may pick
        from twisted.internet import ssl
        with open(key) as k, open(cert) as c:
            context = ssl.PrivateCertificate.loadPEM(k.read() + c.read()).options()
    else:
        from refweb.internet import endpoints
        context = endpoints.sslContext(key, cert)
    return reactor.listenSSL(0, factory, context, interface="127.0.0.1")


def main(argv=None):
    impl, sitePath, root = (argv or sys.argv[1:])[:3]
    if impl == "twisted":
        sys.meta_path.insert(0, _RefuseRefweb())
        # Twisted logs nothing unless asked; its tracebacks go to the adapter's stderr.log
        from twisted.python import log
        log.startLogging(sys.stderr, setStdout=False)
    names = loadSite(impl, sitePath)
    rename = translate if impl == "twisted" else (lambda name: name)
    server = importlib.import_module(rename("refweb.server"))
    reactor = __import__(rename("refweb.internet"), fromlist=["reactor"]).reactor
    info = {}
    if "makeFactory" in names:
        factory = names["makeFactory"](root, info)
    else:
        factory = server.Site(names["makeResource"](root, info))
    port = listen(impl, reactor, factory, os.environ.get("REFWEB_REFERENCE_TLS"))
    print("REFWEB-REFERENCE " + json.dumps({"port": port.getHost().port, "info": info}),
          flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
