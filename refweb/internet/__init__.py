"""The reactor and its parts: ``from refweb.internet import reactor``.

``reactor`` is the one ThreadedReactor of the process (see
threadedreactor.py); ``defer``, ``protocol``, ``address`` and ``error`` are
the small pieces the guide's examples and refweb's own modules use.

Start reading at ``threadedreactor``.
"""

from refweb.internet.threadedreactor import ThreadedReactor

reactor = ThreadedReactor()
