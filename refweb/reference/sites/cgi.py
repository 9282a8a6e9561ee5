"""The guide's CGI example: a cgi-bin folder of scripts under the root ("Serving PHP/Perl/CGI")."""

import os

from refweb import static, twcgi


def makeResource(root, info):
    top = static.File(root)
    top.putChild(b"cgi-bin", twcgi.CGIDirectory(os.path.join(root, "cgi-bin")))
    return top
