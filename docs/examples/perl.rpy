# Serve a folder in which every .pl file is a Perl CGI program.
import os

from refweb import static, twcgi


class PerlScript(twcgi.FilteredScript):
    filter = '/usr/bin/perl'  # the interpreter each .pl file is given to


here = os.path.dirname(__file__)  # a resource script knows where it lives
resource = static.File(os.path.join(here, "perlsite"))
resource.processors = {".pl": PerlScript}  # files ending in .pl run as PerlScript
resource.indexNames = ['index.pl']
