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

/// Which kernel interface a ``ReactorLoop`` uses for I/O.
///
/// The CLI flag `--io-backend uring|epoll` maps to ``uring`` and ``epoll``; the default is
/// ``automatic``, which uses io_uring and falls back to epoll (and logs it) when io_uring cannot be
/// set up: the `kernel.io_uring_disabled` sysctl, a seccomp filter, or an old kernel.
public struct IOBackendKind: Hashable, Sendable, CustomStringConvertible {
    fileprivate enum Base: Hashable, Sendable {
        case uring, epoll, automatic
    }

    fileprivate var base: Base

    /// io_uring; start-up fails if it is unavailable.
    public static let uring = IOBackendKind(base: .uring)
    /// epoll with non-blocking sockets.
    public static let epoll = IOBackendKind(base: .epoll)
    /// io_uring when the kernel allows it, else epoll.
    public static let automatic = IOBackendKind(base: .automatic)

    /// Parses `uring`, `epoll` or `automatic` (as the command line spells them).
    public init?(_ text: String) {
        switch text {
        case "uring", "io_uring": self = .uring
        case "epoll": self = .epoll
        case "automatic", "auto": self = .automatic
        default: return nil
        }
    }

    private init(base: Base) { self.base = base }

    public var description: String {
        switch self.base {
        case .uring: "uring"
        case .epoll: "epoll"
        case .automatic: "automatic"
        }
    }
}

/// One I/O request owned by a loop: an accept, a receive, a send or the loop's wake-up read.
///
/// Only the loop thread touches an operation. The backend keeps it alive while the kernel may still
/// write into ``buffer``, and calls ``complete(_:more:)`` with the kernel's result (a byte count, an
/// accepted descriptor, or `-errno`). Callers keep ``buffer`` alive until that final completion,
/// which is why a cancelled read still waits for its completion before returning.
final class IOOperation {
    /// What the operation does.
    enum Kind {
        case accept
        case receive
        case send
        case wakeUp
    }

    let kind: Kind
    var fd: Int32 = -1
    var buffer: UnsafeMutableRawPointer?
    var length = 0
    /// `true` from submission until the final completion.
    var inFlight = false
    /// Bumped on every submission so a late cancellation cannot hit a later request.
    var generation: UInt64 = 0
    /// Called on the loop thread with the result and whether more completions follow (multishot).
    var onComplete: (Int32, Bool) -> Void

    init(_ kind: Kind, onComplete: @escaping (Int32, Bool) -> Void = { _, _ in }) {
        self.kind = kind
        self.onComplete = onComplete
    }

    /// Delivers one completion.
    @inline(__always)
    func complete(_ result: Int32, more: Bool) {
        if !more { self.inFlight = false }
        self.onComplete(result, more)
    }
}

/// The kernel interface of one loop. Every method runs on the loop thread only.
protocol IOBackend: AnyObject {
    /// The kind in use (never ``IOBackendKind/automatic``).
    var kind: IOBackendKind { get }
    /// Starts a multishot accept on the listener `op.fd`; each accepted descriptor is one completion.
    func accept(_ op: IOOperation) throws(IOReactorError)
    /// Receives up to `op.length` bytes into `op.buffer` from `op.fd`.
    func receive(_ op: IOOperation) throws(IOReactorError)
    /// Sends `op.length` bytes from `op.buffer` on `op.fd` (may complete short).
    func send(_ op: IOOperation) throws(IOReactorError)
    /// Asks the kernel to cancel `op`; it then completes with `-ECANCELED` (or its real result).
    func cancel(_ op: IOOperation) throws(IOReactorError)
    /// Forgets `fd` before it is closed (epoll deregisters it).
    func forget(fd: Int32)
    /// Submits queued requests and waits up to `timeoutNanoseconds` (`nil` forever, `0` not at all)
    /// for completions, delivering every one that is ready.
    /// - Returns: The number of completions delivered.
    func poll(timeoutNanoseconds: Int64?) throws(IOReactorError) -> Int
    /// Releases the kernel resources. Called once, on the loop thread, as it exits.
    func close()
}
