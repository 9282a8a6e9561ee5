# In another terminal: curl, told the server speaks HTTP/2, asks in HTTP/2.
curl -s --http2-prior-knowledge http://127.0.0.1:${PORT:-8080}/notes/todo.txt
