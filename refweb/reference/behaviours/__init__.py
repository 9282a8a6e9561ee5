"""The behaviours, one module per group of the guide's chapters; importing a module registers
its behaviours with refweb.reference.suite, in the order the table lists them."""

from refweb.reference.behaviours import (  # noqa: F401 -- imported to register
    trees, rendering, encoders, sessions, static, scripts, vhosts, rewriting, cgi, proxies,
    wsgi, web, asis, framing)

MODULES = (trees, rendering, encoders, sessions, static, scripts, vhosts, rewriting, cgi,
           proxies, wsgi, web, asis, framing)
