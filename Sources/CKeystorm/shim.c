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

// _GNU_SOURCE is defined here and not in cSettings: a define there leaks into Clang's import of the
// module and breaks `import Dispatch` ('__fds_bits' ... is not present in definition of 'fd_set').
#define _GNU_SOURCE

#include "CKeystorm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

_Static_assert(sizeof(struct io_uring_sqe) == 64, "io_uring_sqe layout");
_Static_assert(sizeof(struct io_uring_cqe) == 16, "io_uring_cqe layout");

// initial-exec: read on every enqueue; avoids a __tls_get_addr call per access.
static _Thread_local void *current_loop __attribute__((tls_model("initial-exec"))) = NULL;

void *CKeystorm_current_loop(void) { return current_loop; }
void CKeystorm_set_current_loop(void *loop) { current_loop = loop; }

unsigned CKeystorm_ring_flags_deferred(void) { return IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN; }

int CKeystorm_ring_init(struct io_uring *ring, unsigned entries, unsigned *flags_used) {
    unsigned attempts[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_SINGLE_ISSUER,
        0,
    };
    int ret = -EINVAL;
    for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
        ret = io_uring_queue_init(entries, ring, attempts[i]);
        if (ret == 0) {
            *flags_used = attempts[i];
            return 0;
        }
        // Only an unknown flag is worth another try; ENOSYS/EPERM (disabled, seccomp) are final.
        if (ret != -EINVAL) { return ret; }
    }
    return ret;
}

int CKeystorm_listen(const char *host, int port, int backlog, int reuse_port, int nonblocking) {
    struct sockaddr_storage storage;
    socklen_t length;
    memset(&storage, 0, sizeof(storage));
    int family;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&storage;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&storage;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        family = AF_INET;
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        length = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        family = AF_INET6;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        length = sizeof(*v6);
    } else {
        errno = EINVAL;
        return -1;
    }
    int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
    int fd = socket(family, type, 0);
    if (fd < 0) { return -1; }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
        bind(fd, (struct sockaddr *)&storage, length) != 0 || listen(fd, backlog) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int CKeystorm_local_port(int fd) {
    struct sockaddr_storage storage;
    socklen_t length = sizeof(storage);
    if (getsockname(fd, (struct sockaddr *)&storage, &length) != 0) { return -1; }
    if (storage.ss_family == AF_INET) { return ntohs(((struct sockaddr_in *)&storage)->sin_port); }
    return ntohs(((struct sockaddr_in6 *)&storage)->sin6_port);
}

int CKeystorm_peer_address(int fd, char *out, size_t capacity) {
    struct sockaddr_storage storage;
    socklen_t length = sizeof(storage);
    if (getpeername(fd, (struct sockaddr *)&storage, &length) != 0) { return -1; }
    char host[INET6_ADDRSTRLEN];
    int port;
    if (storage.ss_family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&storage;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
        port = ntohs(v4->sin_port);
        snprintf(out, capacity, "%s:%d", host, port);
    } else {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&storage;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
        port = ntohs(v6->sin6_port);
        snprintf(out, capacity, "[%s]:%d", host, port);
    }
    return 0;
}

int CKeystorm_peer_source(int fd, uint64_t *high, uint64_t *low) {
    struct sockaddr_storage storage;
    socklen_t length = sizeof(storage);
    if (getpeername(fd, (struct sockaddr *)&storage, &length) != 0) { return -1; }
    *high = 0;
    *low = 0;
    if (storage.ss_family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&storage;
        *low = 0xffff00000000ULL | (uint64_t)ntohl(v4->sin_addr.s_addr);
        return 0;
    }
    if (storage.ss_family != AF_INET6) { return 0; }
    const unsigned char *bytes = ((struct sockaddr_in6 *)&storage)->sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&storage)->sin6_addr)) {
        *low = 0xffff00000000ULL | ((uint64_t)bytes[12] << 24) | ((uint64_t)bytes[13] << 16) |
               ((uint64_t)bytes[14] << 8) | (uint64_t)bytes[15];
        return 0;
    }
    // IPv6: the /64 prefix, since one host or site normally holds a whole /64.
    for (int i = 0; i < 8; i++) { *high = (*high << 8) | bytes[i]; }
    *low = 1;  // never equal to an IPv4 key, whose high half is 0
    return 0;
}

int CKeystorm_malloc_trim(size_t pad) { return malloc_trim(pad); }

int CKeystorm_set_thread_name(const char *name) { return pthread_setname_np(pthread_self(), name); }

int CKeystorm_accept_nonblocking(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int CKeystorm_set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

long CKeystorm_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
long CKeystorm_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_max_proto_version(ctx, version);
}
long CKeystorm_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
uint64_t CKeystorm_SSL_CTX_set_options(SSL_CTX *ctx, uint64_t options) { return SSL_CTX_set_options(ctx, options); }
long CKeystorm_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
long CKeystorm_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return SSL_CTX_set1_groups_list(ctx, list);
}
long CKeystorm_SSL_CTX_add_extra_chain_cert(SSL_CTX *ctx, X509 *cert) {
    return SSL_CTX_add_extra_chain_cert(ctx, cert);
}
uint64_t CKeystorm_default_ssl_options(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE;
}
uint64_t CKeystorm_ssl_option_no_ticket(void) { return SSL_OP_NO_TICKET; }
long CKeystorm_default_ssl_modes(void) {
    return SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
}
size_t CKeystorm_BIO_pending(BIO *bio) { return BIO_ctrl_pending(bio); }
size_t CKeystorm_BIO_get_write_guarantee(BIO *bio) { return BIO_ctrl_get_write_guarantee(bio); }
X509 *CKeystorm_PEM_read_X509(BIO *bio) { return PEM_read_bio_X509(bio, NULL, NULL, NULL); }
void CKeystorm_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }
STACK_OF(X509) *CKeystorm_sk_X509_new(void) { return sk_X509_new_null(); }
int CKeystorm_sk_X509_push(STACK_OF(X509) *stack, X509 *cert) { return sk_X509_push(stack, cert); }

int CKeystorm_has_client_auth_eku(X509 *cert) {
    uint32_t flags = X509_get_extension_flags(cert);
    if ((flags & EXFLAG_XKUSAGE) == 0) { return 0; }
    return (X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT) != 0;
}

int CKeystorm_verify_chain(X509_STORE *store, X509 *leaf, STACK_OF(X509) *chain) {
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL) { return X509_V_ERR_OUT_OF_MEM; }
    int result;
    if (X509_STORE_CTX_init(ctx, store, leaf, chain) != 1) {
        result = X509_V_ERR_UNSPECIFIED;
    } else {
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
        result = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
        if (result == X509_V_OK && X509_STORE_CTX_get_error(ctx) != X509_V_OK) {
            result = X509_STORE_CTX_get_error(ctx);
        }
    }
    X509_STORE_CTX_free(ctx);
    return result;
}

static EVP_MD *sha256_md = NULL;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static void fetch_sha256(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

int CKeystorm_sha256(const void *data, size_t length, unsigned char *out) {
    pthread_once(&sha256_once, fetch_sha256);
    if (sha256_md == NULL) { return 0; }
    unsigned int written = 0;
    return EVP_Digest(data, length, out, &written, sha256_md, NULL) == 1 && written == 32;
}
