"""The guide's as-is serving: ASISProcessor for .asis files ("As-Is Serving")."""

import os

from refweb import static


def makeResource(root, info):
    top = static.File(os.path.join(root, "asis"))
    top.processors = {".asis": static.ASISProcessor}
    return top
