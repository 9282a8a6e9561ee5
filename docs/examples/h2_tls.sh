# A throwaway certificate, then a TLS port: ALPN offers "h2" and "http/1.1".
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout key.pem -out cert.pem
python -m refweb -n web --path htdocs --listen ssl:${PORT:-8443}:privateKey=key.pem:certKey=cert.pem:interface=127.0.0.1
# In another terminal: which protocol did ALPN choose?
curl -sk --http2 -o /dev/null -w '%{http_version}\n' https://127.0.0.1:${PORT:-8443}/
