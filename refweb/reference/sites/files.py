"""The guide's first configuration: static.File serving a folder ("Serving Flat HTML")."""

from refweb import static


def makeResource(root, info):
    return static.File(root)
