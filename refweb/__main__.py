"""``python -m refweb``: the ``refweb`` command (its parts are in refweb/runner.py).

Guide: "Running a Twisted Web Server" -- ``python -m refweb web --path DIR``
is refweb's ``twistd web --path DIR``.

Start reading at ``runner.run``.
"""

from refweb.runner import main
main()
