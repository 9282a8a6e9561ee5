"""VHostMonsterResource under /vhost, beside a resource that says where it thinks it is
("Using VHostMonster")."""

import json
import os

from refweb import static, vhost
from refweb.resource import Resource


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


class WhereAmI(Resource):
    isLeaf = True

    def render_GET(self, request):
        host = request.getHost()
        fields = {"hostname": text(request.getRequestHostname()),
                  "port": host.port, "secure": bool(request.isSecure()),
                  "prePathURL": text(request.prePathURL()),
                  "prepath": [text(s) for s in request.prepath]}
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(fields, sort_keys=True).encode("utf-8")


def makeResource(root, info):
    top = Resource()
    top.putChild(b"vhost", vhost.VHostMonsterResource())
    top.putChild(b"where", WhereAmI())
    top.putChild(b"files", static.File(os.path.join(root, "vhosts", "foo.com")))
    return top
