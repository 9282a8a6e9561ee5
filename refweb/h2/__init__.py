"""HTTP/2 (RFC 9113) and its header compression HPACK (RFC 7541), by hand.

Guide: not in the guide (Twisted Web serves HTTP/2 through a third-party
library); the same resource tree answers over it.

The modules, in the order a connection's bytes meet them:

* ``frames.py``: the frame layouts as one table; readFrame and the builders;
* ``hpack.py``: header blocks decoded and encoded (static and dynamic tables);
* ``huffman.py``: HPACK's Huffman code, as data;
* ``connection.py``: one sans-I/O HTTP/2 connection: bytes in, events out;
  its tables are in ``states.py`` (stream states, limits, events) and
  ``fields.py`` (what a request's fields must be);
* ``channel.py``: the protocol that serves a Site over it, read by the
  selector thread, each stream a request rendered in a worker and writing
  to a ``stream.py`` H2Stream;
* ``wirelog.py``: with ``Site(wire=True)``, one log line for each frame.

Start reading at ``frames``.
"""
