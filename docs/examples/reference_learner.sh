# Run the reference suite against your own server (from docs/examples/, or give the path).
# {port}, {root} and {site} are filled in for each site the suite starts.
python -m refweb.reference --impl command \
    --command 'python3 learner_server.py {port} {root} {site}' "$@"
