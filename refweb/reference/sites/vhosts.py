"""The guide's NameVirtualHost example: a default site and two named hosts ("Virtual Hosts").

foo.com is added with a str name, as the guide prints it; bar.com with a
bytes name (b"bar.com"), the spelling Twisted needs on Python 3 -- refweb
takes both -- so that the host matching itself is compared on bar.com.
"""

import os

from refweb import static, vhost


def makeResource(root, info):
    top = vhost.NameVirtualHost()
    top.default = static.File(os.path.join(root, "vhosts", "default"))
    top.addHost("foo.com", static.File(os.path.join(root, "vhosts", "foo.com")))
    top.addHost(b"bar.com", static.File(os.path.join(root, "vhosts", "bar.com")))
    return top
