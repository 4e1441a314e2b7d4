// Linux epoll, which Glibc's Swift module does not include (the HTTP server's IOLoop).
#include <sys/epoll.h>
