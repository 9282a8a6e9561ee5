def application(environ, start_response):
    """Basic WSGI Application"""
    start_response('200 OK', [('Content-type', 'text/plain')])
    return [b'Hello World!']  # a WSGI body is bytes (PEP 3333)
