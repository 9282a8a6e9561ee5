# Serve the resource perl.rpy sets up (its perlsite folder) as the whole site.
python -m refweb -n web --resource-script perl.rpy --listen tcp:${PORT:-8080}:interface=127.0.0.1
