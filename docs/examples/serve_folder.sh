# Serve the current folder in the foreground; stop with Ctrl-C.
python -m refweb -n web --path . --listen tcp:${PORT:-8080}:interface=127.0.0.1
