# Stop the daemon started from this folder.
kill `cat refweb.pid`
