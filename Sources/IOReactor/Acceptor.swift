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

internal import CKeystorm
internal import Glibc

/// One loop's listener with a multishot accept; hands accepted descriptors to the accept loop.
/// Loop thread only.
final class Acceptor {
    private let loop: ReactorLoop
    private let listener: Int32
    private let op = IOOperation(.accept)
    private var ready: [Int32] = []
    private var waiter: UnsafeContinuation<Int32?, Never>?
    private var stopped = false
    private var finished = false
    private let log: @Sendable (String) -> Void

    init(loop: ReactorLoop, listener: Int32, log: @escaping @Sendable (String) -> Void) {
        self.loop = loop
        self.listener = listener
        self.log = log
        self.op.fd = listener
    }

    /// Arms the multishot accept.
    func start() {
        self.op.onComplete = { result, more in self.completed(result, more: more) }
        self.arm()
    }

    private func arm() {
        do {
            try self.loop.backend.accept(self.op)
        } catch {
            self.log("loop \(self.loop.index): cannot arm accept: \(error)")
            self.finish()
        }
    }

    private func completed(_ result: Int32, more: Bool) {
        if result >= 0 {
            if self.stopped {
                _ = Glibc.close(result)
            } else if let waiter = self.waiter {
                self.waiter = nil
                waiter.resume(returning: result)
            } else {
                self.ready.append(result)
            }
        } else if result != -ECANCELED && !self.stopped {
            // EMFILE, ENFILE, ENOBUFS, ECONNABORTED: keep serving the connections we have.
            self.log("loop \(self.loop.index): accept: \(errnoDescription(-result))")
        }
        guard !more else { return }
        if self.stopped {
            self.finish()
        } else if result >= 0 || result == -ECONNABORTED || result == -EINTR {
            self.arm()
        } else {
            // Out of descriptors or memory: back off briefly instead of spinning.
            _ = self.loop.schedule(afterNanoseconds: 10_000_000) { if !self.stopped { self.arm() } }
        }
    }

    /// The next accepted descriptor, or `nil` once the acceptor stopped.
    nonisolated(nonsending) func next() async -> Int32? {
        if !self.ready.isEmpty { return self.ready.removeFirst() }
        if self.finished { return nil }
        return await withUnsafeContinuation { self.waiter = $0 }
    }

    /// Stops accepting: cancels the accept, closes the listener and ends ``next()``. Idempotent.
    func stop() {
        guard !self.stopped else { return }
        self.stopped = true
        for fd in self.ready { _ = Glibc.close(fd) }
        self.ready.removeAll()
        if self.op.inFlight {
            try? self.loop.backend.cancel(self.op)
        } else {
            self.finish()
        }
    }

    private func finish() {
        guard !self.finished else { return }
        self.finished = true
        self.loop.backend.forget(fd: self.listener)
        _ = Glibc.close(self.listener)
        self.op.onComplete = { _, _ in }
        if let waiter = self.waiter {
            self.waiter = nil
            waiter.resume(returning: nil)
        }
    }
}
