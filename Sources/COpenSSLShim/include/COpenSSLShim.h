#ifndef FLOTILLA_COPENSSLSHIM_H
#define FLOTILLA_COPENSSLSHIM_H
#include <openssl/ssl.h>
#include <openssl/bio.h>
#include <openssl/x509v3.h>

// OpenSSL 3 exposes these as macros, which Swift cannot import.
int flotilla_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
int flotilla_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
long flotilla_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
long flotilla_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode);
int flotilla_SSL_set_tlsext_host_name(SSL *ssl, const char *name);
long flotilla_BIO_set_mem_eof_return(BIO *bio, long value);
// Bytes a memory BIO holds allocated (BUF_MEM.max), however little it holds now.
size_t flotilla_BIO_mem_allocated(BIO *bio);
void flotilla_OPENSSL_free(void *ptr);
long flotilla_SSL_OP_NO_RENEGOTIATION(void);
int flotilla_TLS1_2_VERSION(void);
int flotilla_TLS1_3_VERSION(void);
long flotilla_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER(void);
long flotilla_SSL_MODE_ENABLE_PARTIAL_WRITE(void);
long flotilla_SSL_MODE_RELEASE_BUFFERS(void);
// sk_GENERAL_NAME_* are macros over the generic OPENSSL_sk_* functions.
int flotilla_sk_GENERAL_NAME_num(const GENERAL_NAMES *names);
const GENERAL_NAME *flotilla_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int index);
void flotilla_GENERAL_NAMES_free(GENERAL_NAMES *names);
int flotilla_MBSTRING_ASC(void);
#endif
