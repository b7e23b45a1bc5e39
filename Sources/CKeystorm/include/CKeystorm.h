//===----------------------------------------------------------------------===//
//
// This source file is part of the Keystorm open source project
//
// Copyright (c) 2026 the Keystorm project authors
// Licensed under Apache License v2.0
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// Thin C shim over liburing and OpenSSL for IOReactor.
//
// Swift calls liburing's `static inline` functions and OpenSSL's functions directly. This header
// only re-exports the system headers and declares wrappers for what Swift cannot import: function-like
// macros, macros built on enums, a C thread-local, and socket setup that needs `sockaddr` juggling.
// Every name is prefixed `CKeystorm_`.

#ifndef CKEYSTORM_H
#define CKEYSTORM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <liburing.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

// MARK: - Thread-local "current loop"

/// Returns the loop that owns the calling thread, or NULL.
void *CKeystorm_current_loop(void);
/// Marks the calling thread as owned by `loop` (NULL to clear).
void CKeystorm_set_current_loop(void *loop);

// MARK: - io_uring

/// Sets up `ring` with SINGLE_ISSUER|DEFER_TASKRUN, falling back to plain flags when the kernel
/// refuses them. Returns 0 or a negative errno. `*flags_used` receives the setup flags that worked.
int CKeystorm_ring_init(struct io_uring *ring, unsigned entries, unsigned *flags_used);
/// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN`, for reporting.
unsigned CKeystorm_ring_flags_deferred(void);

// MARK: - Sockets

/// Opens a TCP listener on `host:port` (IPv4 or IPv6 literal) with SO_REUSEADDR and, if `reuse_port`,
/// SO_REUSEPORT. `nonblocking` sets O_NONBLOCK. Returns the fd or -1 with errno set.
int CKeystorm_listen(const char *host, int port, int backlog, int reuse_port, int nonblocking);
/// The local port of a bound socket, or -1 with errno set.
int CKeystorm_local_port(int fd);
/// Writes the numeric peer address of `fd` ("host:port") into `out`. Returns 0 or -1 with errno set.
int CKeystorm_peer_address(int fd, char *out, size_t capacity);
/// The source a per-address limit counts `fd`'s peer under: an IPv4 address (also when mapped into
/// IPv6), or the /64 prefix of an IPv6 address. Returns 0 or -1 with errno set.
int CKeystorm_peer_source(int fd, uint64_t *high, uint64_t *low);
/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC): returns the new fd or -1 with errno set.
int CKeystorm_accept_nonblocking(int fd);
/// Sets TCP_NODELAY on a connected socket. Returns 0 or -1 with errno set.
int CKeystorm_set_nodelay(int fd);

// MARK: - Memory

/// glibc's malloc_trim: returns free heap memory of every arena to the kernel. Returns 1 when some
/// memory was released.
int CKeystorm_malloc_trim(size_t pad);

/// Names the calling thread (at most 15 bytes are kept), as `top -H` and `ps -L` show it.
int CKeystorm_set_thread_name(const char *name);

// MARK: - OpenSSL macro wrappers

long CKeystorm_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
long CKeystorm_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
long CKeystorm_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
uint64_t CKeystorm_SSL_CTX_set_options(SSL_CTX *ctx, uint64_t options);
long CKeystorm_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode);
long CKeystorm_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list);
long CKeystorm_SSL_CTX_add_extra_chain_cert(SSL_CTX *ctx, X509 *cert);
/// Options Keystorm always sets: no renegotiation, no compression, server cipher preference.
uint64_t CKeystorm_default_ssl_options(void);
/// `SSL_OP_NO_TICKET`.
uint64_t CKeystorm_ssl_option_no_ticket(void);
/// Modes Keystorm always sets: release idle buffers, partial writes, moving write buffer.
long CKeystorm_default_ssl_modes(void);
/// The number of bytes waiting to be read from `bio`.
size_t CKeystorm_BIO_pending(BIO *bio);
/// The number of bytes that may be written into `bio` now.
size_t CKeystorm_BIO_get_write_guarantee(BIO *bio);
/// Reads one PEM certificate from a memory BIO (NULL at the end).
X509 *CKeystorm_PEM_read_X509(BIO *bio);
/// Frees a STACK_OF(X509) and its certificates.
void CKeystorm_sk_X509_pop_free(STACK_OF(X509) *stack);
/// Creates an empty STACK_OF(X509).
STACK_OF(X509) *CKeystorm_sk_X509_new(void);
/// Pushes `cert` (taking the reference) onto `stack`. Returns the new count or 0.
int CKeystorm_sk_X509_push(STACK_OF(X509) *stack, X509 *cert);

// MARK: - Certificate checks

/// 1 if `cert` carries an extended key usage extension that includes clientAuth, else 0.
int CKeystorm_has_client_auth_eku(X509 *cert);
/// Verifies `leaf` with the untrusted `chain` against `store` for the TLS client purpose.
/// Returns X509_V_OK (0) or the X509_V_ERR_* code of the failure.
int CKeystorm_verify_chain(X509_STORE *store, X509 *leaf, STACK_OF(X509) *chain);
/// Writes the SHA-256 of `length` bytes at `data` into `out` (32 bytes), with a digest fetched once
/// per process (no per-handshake algorithm fetch). Returns 1 or 0.
int CKeystorm_sha256(const void *data, size_t length, unsigned char *out);

#endif
