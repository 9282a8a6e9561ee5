"""indexNames, processors and ignoreExt together, as the guide's two .tac examples set them
("Modifying File Resources"), plus a processor of our own for ``.shout`` files."""

import os
import sys

from refweb import script, static
from refweb.resource import Resource


class Shout(Resource):
    """A processor: made with (path, registry) for each file ending in .shout."""
    isLeaf = True

    def __init__(self, path, registry=None):
        Resource.__init__(self)
        self.path = path

    def render_GET(self, request):
        with open(self.path, "rb") as f:
            return f.read().upper()


def makeResource(root, info):
    sys.path.insert(0, os.path.join(root, "scripts"))  # counter.rpy imports SillyWeb from there
    top = static.File(os.path.join(root, "scripts"))
    top.indexNames = ["index.rpy"]
    top.processors = {".rpy": script.ResourceScript, ".shout": Shout}
    top.ignoreExt(".rpy")
    return top
