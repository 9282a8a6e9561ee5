# A CGI program: headers, a blank line, then the body, on stdout.
print "Content-Type: text/plain\r\n\r\n";
print "Hello from Perl; you asked for $ENV{REQUEST_URI}\n";
