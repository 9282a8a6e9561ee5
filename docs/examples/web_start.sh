# Start a daemon serving ./htdocs; it writes refweb.pid and refweb.log here.
python -m refweb web --path htdocs --listen tcp:${PORT:-8080}:interface=127.0.0.1
