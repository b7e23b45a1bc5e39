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

// Bounded mutual-TLS load generator for Tuning/scripts/reactor-bench.sh. Loopback only.
//
//   loadgen -m rr|hs|idle -p PORT -C cert -K key -A ca [-c conns] [-d secs] [-w warmup] [-P server_pid]
//           [-t 12|13] [-H hold_secs]
//
//   rr    `conns` persistent connections, each with one 80-byte request outstanding; a request is
//         done when 120 response bytes arrived.
//   hs    `conns` concurrent loops of: connect, full handshake, one request, >= 1 response byte, close.
//   idle  opens `conns` connections (64 handshakes at a time), one request each, holds them for
//         `hold` seconds, and reports the server's RSS growth per connection.
//
// With -P, the server's CPU time (utime+stime from /proc/PID/stat) is read at the window edges.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { CONNECTING, HANDSHAKE, SEND, RECV, HELD };
struct conn {
    int fd;
    SSL *ssl;
    enum state state;
    int got;
    double sent_at;
};

static SSL_CTX *ctx;
static int port, mode_rr, mode_hs, mode_idle, epfd;
static long ops, errors;
static double window_start, window_end;
static long latency_us[100001];
static long latency_count;
static unsigned char request[80];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double server_cpu(int pid) {
    if (pid <= 0) return 0;
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    // Fields after ')': state(3) ... utime(14) stime(15).
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
    return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

static long server_rss_kib(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    long rss = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) sscanf(line + 6, "%ld", &rss);
    }
    fclose(f);
    return rss;
}

static void watch(struct conn *c, unsigned events, int op) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(epfd, op, c->fd, &ev);
}

static void start(struct conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->ssl = NULL;
    c->got = 0;
    c->state = CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
        perror("connect");
        exit(1);
    }
    watch(c, EPOLLOUT, EPOLL_CTL_ADD);
}

static void finish(struct conn *c, int failed) {
    if (failed) errors++;
    if (c->ssl) {
        if (!failed) SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    close(c->fd);
}

// Returns 1 when the connection should wait for `*events`, 0 when it was closed (and restarted).
static int step(struct conn *c, unsigned *events) {
    for (;;) {
        int r = 0, err;
        switch (c->state) {
        case CONNECTING: {
            int so = 0;
            socklen_t len = sizeof(so);
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &len);
            if (so != 0) { finish(c, 1); return 0; }
            c->ssl = SSL_new(ctx);
            SSL_set_fd(c->ssl, c->fd);
            SSL_set_connect_state(c->ssl);
            c->state = HANDSHAKE;
            continue;
        }
        case HANDSHAKE:
            r = SSL_do_handshake(c->ssl);
            if (r == 1) { c->state = SEND; continue; }
            goto want;
        case SEND:
            c->sent_at = now();
            r = SSL_write(c->ssl, request, sizeof(request));
            if (r > 0) { c->state = RECV; c->got = 0; continue; }
            goto want;
        case RECV: {
            unsigned char buf[4096];
            r = SSL_read(c->ssl, buf, sizeof(buf));
            if (r <= 0) goto want;
            c->got += r;
            if (mode_rr || mode_idle) {
                if (c->got < 120) continue;
                double t = now();
                if (mode_idle) { c->state = HELD; *events = EPOLLIN; return 1; }
                if (t >= window_start && t < window_end) {
                    ops++;
                    long us = (long)((t - c->sent_at) * 1e6);
                    latency_us[us > 100000 ? 100000 : us]++;
                    latency_count++;
                }
                c->state = SEND;
                continue;
            }
            double t = now();
            if (t >= window_start && t < window_end) ops++;
            finish(c, 0);
            return 0;
        }
        case HELD:
            *events = EPOLLIN;
            return 1;
        }
    want:
        err = SSL_get_error(c->ssl, r);
        if (err == SSL_ERROR_WANT_READ) { *events = EPOLLIN; return 1; }
        if (err == SSL_ERROR_WANT_WRITE) { *events = EPOLLOUT; return 1; }
        ERR_clear_error();
        finish(c, 1);
        return 0;
    }
}

static long percentile(double p) {
    long target = (long)(latency_count * p), seen = 0;
    for (int i = 0; i <= 100000; i++) {
        seen += latency_us[i];
        if (seen > target) return i;
    }
    return 100000;
}

int main(int argc, char **argv) {
    int conns = 100, pid = 0, version = 13;
    double duration = 5, warmup = 1, hold = 5;
    const char *mode = "rr", *cert = NULL, *key = NULL, *ca = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "m:p:c:d:w:P:C:K:A:t:H:")) != -1) {
        switch (opt) {
        case 'm': mode = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'c': conns = atoi(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'w': warmup = atof(optarg); break;
        case 'P': pid = atoi(optarg); break;
        case 'C': cert = optarg; break;
        case 'K': key = optarg; break;
        case 'A': ca = optarg; break;
        case 't': version = atoi(optarg); break;
        case 'H': hold = atof(optarg); break;
        default: fprintf(stderr, "bad option\n"); return 2;
        }
    }
    if (duration > 20 || hold > 20 || warmup > 10) { fprintf(stderr, "runs are bounded to 20 s\n"); return 2; }
    mode_rr = strcmp(mode, "rr") == 0;
    mode_hs = strcmp(mode, "hs") == 0;
    mode_idle = strcmp(mode, "idle") == 0;
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    memset(request, 'Q', sizeof(request));
    request[sizeof(request) - 1] = '\n';  // s_server -rev answers per line
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct conn *all = calloc(conns, sizeof(struct conn));
    double t0 = now();
    long rss_before = pid > 0 ? server_rss_kib(pid) : 0;
    int opened = 0, held = 0, active = 0;
    int batch = mode_idle ? 64 : conns;
    for (; opened < conns && opened < batch; opened++, active++) start(&all[opened]);
    window_start = mode_idle ? 1e18 : t0 + warmup;
    window_end = window_start + duration;
    double cpu0 = -1, cpu1 = 0, hard_stop = mode_idle ? t0 + 20 : t0 + warmup + duration + 5;
    struct epoll_event events[256];
    while (now() < hard_stop) {
        double t = now();
        if (!mode_idle && cpu0 < 0 && t >= window_start) cpu0 = server_cpu(pid);
        if (!mode_idle && t >= window_end) break;
        if (mode_idle && held + errors >= conns) break;
        int n = epoll_wait(epfd, events, 256, 10);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            unsigned want = 0;
            if (c->state == HELD) continue;
            if (step(c, &want)) {
                if (c->state == HELD) { held++; active--; want = EPOLLIN; }
                watch(c, want, EPOLL_CTL_MOD);
            } else if (mode_idle) {
                active--;
            } else {
                start(c);
            }
            while (mode_idle && active < batch && opened < conns) { start(&all[opened++]); active++; }
        }
    }
    if (mode_idle) {
        usleep(1000 * 1000);  // let the server settle
        long rss_after = server_rss_kib(pid);
        printf("mode=idle conns=%d held=%d errors=%ld rss_before_kib=%ld rss_after_kib=%ld per_conn_kib=%.1f\n", conns,
               held, errors, rss_before, rss_after, held > 0 ? (double)(rss_after - rss_before) / held : 0.0);
        fflush(stdout);
        usleep((useconds_t)(hold * 1e6));
        return 0;
    }
    cpu1 = server_cpu(pid);
    double cpu = cpu0 >= 0 ? cpu1 - cpu0 : 0;
    printf("mode=%s conns=%d tls=1.%d secs=%.1f ops=%ld rate=%.0f errors=%ld server_cpu_s=%.2f per_server_cpu_s=%.0f",
           mode, conns, version == 12 ? 2 : 3, duration, ops, ops / duration, errors, cpu, cpu > 0 ? ops / cpu : 0.0);
    if (mode_rr) printf(" p50_us=%ld p99_us=%ld", percentile(0.5), percentile(0.99));
    printf("\n");
    return 0;
}
