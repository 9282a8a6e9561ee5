# Run it from docs/examples/ (it listens on 127.0.0.1, port $PORT or 8080):
#   python -m refweb -n web --resource-script session_counter.py --listen tcp:${PORT:-8080}:interface=127.0.0.1
"""Count each browser's visits in its Session."""
from refweb.resource import Resource


class Counter(Resource):
    isLeaf = True

    def render_GET(self, request):
        session = request.getSession()  # made, with its cookie, on the first visit
        session.visits = getattr(session, "visits", 0) + 1
        return "Visit number %d of session %s...\n" % (session.visits, session.uid[:8])


class Logout(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.getSession().expire()  # forget it: the next visit starts afresh
        return "Bye.\n"


root = Resource()
root.putChild("", Counter())
root.putChild("logout", Logout())
resource = root  # the name --resource-script (and a .rpy) serves
