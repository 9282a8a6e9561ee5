# Once: a scratch virtualenv with Twisted in it (refweb itself needs nothing).
test -x ~/twisted-venv/bin/python || { python3 -m venv ~/twisted-venv && ~/twisted-venv/bin/pip install -q twisted; }
# refweb and Twisted Web side by side: one row per behaviour, one column each.
python -m refweb.reference --impl refweb --impl twisted --twisted-python ~/twisted-venv/bin/python "$@"
