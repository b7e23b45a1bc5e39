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
//
// Makes Synchronization's `Mutex` visible to ThreadSanitizer (preloaded by sanitizers.sh thread).
//
// On Linux a `Mutex` is a futex word. Its uncontended paths are atomics inlined into Keystorm's own
// code, which TSan instruments and sees. Its contended paths (`_MutexHandle._lockSlow`,
// `_tryLockSlow`, `_unlockSlow`) live in libswiftSynchronization.so, which is not instrumented: a
// lock handed over through them creates no happens-before edge, so TSan reports every access made
// under that lock as a race. These wrappers take the place of the three slow paths, call the real
// ones, and tell TSan "acquired" after a lock and "released" before an unlock, on the futex word's
// address: the same address the inlined atomics synchronize on. An access made outside the lock is
// still reported.
//
// The three functions are Swift methods: `self` (the address of the futex word) travels in the
// Swift context register, which clang's `swiftcall` + `swift_context` reproduce.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// Weak: a process that is not instrumented (the `swift test` driver inherits LD_PRELOAD too) has
// no TSan runtime, and the wrappers then only forward.
__attribute__((weak)) void __tsan_acquire(void *address);
__attribute__((weak)) void __tsan_release(void *address);

#define SWIFTCALL __attribute__((swiftcall))
#define SWIFT_SELF __attribute__((swift_context))

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

typedef SWIFTCALL void (*lock_slow_fn)(uint32_t, void *SWIFT_SELF);
typedef SWIFTCALL bool (*try_lock_slow_fn)(void *SWIFT_SELF);
typedef SWIFTCALL void (*unlock_slow_fn)(void *SWIFT_SELF);

static void *next_definition(const char *name) {
    void *symbol = dlsym(RTLD_NEXT, name);
    if (symbol == NULL) {
        fprintf(stderr, "tsan-mutex: %s is not in libswiftSynchronization.so (a different Swift release?)\n", name);
        abort();
    }
    return symbol;
}

SWIFTCALL void keystorm_tsan_lock_slow(uint32_t thread_id, void *SWIFT_SELF handle) __asm__(LOCK_SLOW);
SWIFTCALL void keystorm_tsan_lock_slow(uint32_t thread_id, void *SWIFT_SELF handle) {
    static lock_slow_fn next;
    if (next == NULL) next = (lock_slow_fn)next_definition(LOCK_SLOW);
    next(thread_id, handle);
    if (__tsan_acquire) __tsan_acquire(handle);
}

SWIFTCALL bool keystorm_tsan_try_lock_slow(void *SWIFT_SELF handle) __asm__(TRY_LOCK_SLOW);
SWIFTCALL bool keystorm_tsan_try_lock_slow(void *SWIFT_SELF handle) {
    static try_lock_slow_fn next;
    if (next == NULL) next = (try_lock_slow_fn)next_definition(TRY_LOCK_SLOW);
    bool locked = next(handle);
    if (locked && __tsan_acquire) __tsan_acquire(handle);
    return locked;
}

SWIFTCALL void keystorm_tsan_unlock_slow(void *SWIFT_SELF handle) __asm__(UNLOCK_SLOW);
SWIFTCALL void keystorm_tsan_unlock_slow(void *SWIFT_SELF handle) {
    static unlock_slow_fn next;
    if (next == NULL) next = (unlock_slow_fn)next_definition(UNLOCK_SLOW);
    if (__tsan_release) __tsan_release(handle);
    next(handle);
}
