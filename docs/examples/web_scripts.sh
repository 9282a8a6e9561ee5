# Serve ./htdocs in the foreground: its .rpy files run, its .cgi files run.
python -m refweb -n web --path htdocs --listen tcp:${PORT:-8080}:interface=127.0.0.1
