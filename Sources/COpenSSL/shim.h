#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <stdint.h>

// Swift cannot import the SSL_OP_BIT(n) option macros; the HTTP server's TLS context takes them from here.
// No renegotiation (a client-driven CPU cost with no use for an API), EOF without close_notify read as a plain
// EOF (HTTP framing detects truncation itself), no TLS compression (CRIME), the server's cipher order.
static inline uint64_t tiaoyu_tls_server_options(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION
        | SSL_OP_CIPHER_SERVER_PREFERENCE;
}
