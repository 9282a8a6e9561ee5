# Serve the WSGI application `application` of ./helloworld.py at the root.
python -m refweb -n web --wsgi=helloworld.application --listen tcp:${PORT:-8080}:interface=127.0.0.1
