# -*- test-case-name: tests.test_quicksend -*-
"""Sending a small write without letting go of the GIL.

Where it sits: ``SocketTransport.write`` (``protocol.py``) calls ``sendNow``
first, then ``socket.sendall`` for whatever ``sendNow`` did not send.  Every
response refweb writes passes through here.

Why.  Every socket call Python makes lets go of the GIL around the system
call, so that other threads can run meanwhile.  For a blocking call that is
right.  But when fifty connection threads are busy, letting go is not free:
another thread takes the GIL, and the sender, back from the kernel a few
microseconds later, must sleep until it is handed back.  That is two thread
switches per write, and a small response is sent in less time than they
take.  With fifty keep-alive clients of a hello-world (``bench/bench_hello.py``)
this halved the thread switches per request (about 3.7 to 1.4) and raised
throughput by about 15%.

How.  ``ctypes.PyDLL`` calls a C function *without* letting go of the GIL
(``ctypes.CDLL`` would let go, as socket methods do).  ``send(2)`` with
``MSG_DONTWAIT`` never blocks: it copies what fits into the socket's send
buffer and returns at once, or fails with EAGAIN.  So the GIL is held for a
copy of at most ``MAX_QUICK_SEND`` bytes, a few microseconds.  What did not
fit is left to ``sendall``, which lets go of the GIL and waits, as always.

Only plain sockets qualify: a TLS socket (``ssl.SSLSocket``) must encrypt
first.  Where ``send`` or ``MSG_DONTWAIT`` is not to be had (Windows),
``sendNow`` sends nothing and every write goes through ``sendall``.
"""

import socket

try:
    import ctypes
except ImportError:  # a Python built without _ctypes: every write goes through sendall
    ctypes = None

MAX_QUICK_SEND = 65536  # bytes: larger writes go through sendall alone

# MSG_NOSIGNAL (Linux): a peer that has gone gives EPIPE, never a SIGPIPE,
# even in a program that has set SIGPIPE back to its default.
_FLAGS = getattr(socket, "MSG_DONTWAIT", 0) | getattr(socket, "MSG_NOSIGNAL", 0)


def _findSend():
    """libc's send(2), called with the GIL held; None where there is none."""
    if ctypes is None or not getattr(socket, "MSG_DONTWAIT", 0):
        return None
    try:
        send = ctypes.PyDLL(None).send
    except (OSError, TypeError, AttributeError):
        return None
    send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    send.restype = ctypes.c_ssize_t
    return send


_send = _findSend()
available = _send is not None


def sendNow(sock, data):
    """Send what fits of ``data`` at once, holding the GIL; return how many bytes went.

    0 means "nothing sent, use sendall": the socket is not a plain one, the
    data is not bytes or is large, the buffer is full, or the send failed
    (sendall will then meet the same error and raise it).
    """
    if _send is None or type(sock) is not socket.socket or type(data) is not bytes \
            or len(data) > MAX_QUICK_SEND:
        return 0
    sent = _send(sock.fileno(), data, len(data), _FLAGS)
    return sent if sent > 0 else 0
