"""The guide's NameVirtualHost example: a default site and two named hosts ("Virtual Hosts")."""

import os

from refweb import static, vhost


def makeResource(root, info):
    top = vhost.NameVirtualHost()
    top.default = static.File(os.path.join(root, "vhosts", "default"))
    top.addHost("foo.com", static.File(os.path.join(root, "vhosts", "foo.com")))
    top.addHost("bar.com", static.File(os.path.join(root, "vhosts", "bar.com")))
    return top
