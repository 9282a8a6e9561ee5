"""NameVirtualHost with no default: an unknown host finds nothing ("Virtual Hosts")."""

import os

from refweb import static, vhost


def makeResource(root, info):
    top = vhost.NameVirtualHost()
    top.addHost(b"foo.com", static.File(os.path.join(root, "vhosts", "foo.com")))
    return top
