# The internal server the front proxy talks to; htdocs holds vhost.rpy.
python -m refweb -n web --path htdocs --listen tcp:${PORT:-8538}:interface=127.0.0.1
