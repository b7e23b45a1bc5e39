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

/// An error raised by the reactor: a failed system call, a TLS failure, a timeout or a limit.
///
/// Equality compares the ``code`` only, so callers can write `catch IOReactorError.timeout`.
/// ``errno`` carries the system error number when there is one, and ``reason`` explains the failure
/// for logs. No error carries payload bytes.
public struct IOReactorError: Error, Hashable, Sendable {
    /// The kind of an ``IOReactorError``.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case systemCall
            case ioUringUnavailable
            case tlsConfiguration
            case handshakeFailed
            case tls
            case timeout
            case connectionReset
            case cancelled
            case shutdown
            case closed
            case invalidArgument
        }

        fileprivate var base: Base

        /// A system call failed; ``IOReactorError/errno`` tells why.
        public static let systemCall = Code(base: .systemCall)
        /// io_uring could not be set up (disabled by sysctl, filtered by seccomp, or an old kernel).
        public static let ioUringUnavailable = Code(base: .ioUringUnavailable)
        /// A certificate, key, CA bundle or cipher list was rejected.
        public static let tlsConfiguration = Code(base: .tlsConfiguration)
        /// The TLS handshake failed (for example the client certificate was refused).
        public static let handshakeFailed = Code(base: .handshakeFailed)
        /// A TLS record could not be processed after the handshake.
        public static let tls = Code(base: .tls)
        /// The handshake or an idle read did not finish in time.
        public static let timeout = Code(base: .timeout)
        /// The peer reset the connection or it broke.
        public static let connectionReset = Code(base: .connectionReset)
        /// The operation was cancelled (task cancellation).
        public static let cancelled = Code(base: .cancelled)
        /// The server is shutting down and closed the connection.
        public static let shutdown = Code(base: .shutdown)
        /// The connection is already closed.
        public static let closed = Code(base: .closed)
        /// An argument or configuration value is out of range.
        public static let invalidArgument = Code(base: .invalidArgument)

        public var description: String {
            switch self.base {
            case .systemCall: "systemCall"
            case .ioUringUnavailable: "ioUringUnavailable"
            case .tlsConfiguration: "tlsConfiguration"
            case .handshakeFailed: "handshakeFailed"
            case .tls: "tls"
            case .timeout: "timeout"
            case .connectionReset: "connectionReset"
            case .cancelled: "cancelled"
            case .shutdown: "shutdown"
            case .closed: "closed"
            case .invalidArgument: "invalidArgument"
            }
        }
    }

    private struct Backing: Hashable, Sendable {
        var code: Code
        var errno: Int32
        var reason: String
        var file: String
        var line: UInt
    }

    private var backing: Backing

    /// The kind of failure.
    public var code: Code { self.backing.code }
    /// The system error number, or 0 when the failure is not a system call's.
    public var errno: Int32 { self.backing.errno }
    /// A human-readable explanation.
    public var reason: String { self.backing.reason }
    /// Where in Keystorm the error was raised.
    public var file: String { self.backing.file }
    /// Where in Keystorm the error was raised.
    public var line: UInt { self.backing.line }

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - errno: The system error number, 0 if none.
    ///   - reason: A human-readable explanation.
    public init(_ code: Code, errno: Int32 = 0, reason: String, file: String = #fileID, line: UInt = #line) {
        self.backing = Backing(code: code, errno: errno, reason: reason, file: file, line: line)
    }

    public static func == (lhs: IOReactorError, rhs: IOReactorError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }

    public static var systemCall: Code { .systemCall }
    public static var ioUringUnavailable: Code { .ioUringUnavailable }
    public static var tlsConfiguration: Code { .tlsConfiguration }
    public static var handshakeFailed: Code { .handshakeFailed }
    public static var tls: Code { .tls }
    public static var timeout: Code { .timeout }
    public static var connectionReset: Code { .connectionReset }
    public static var cancelled: Code { .cancelled }
    public static var shutdown: Code { .shutdown }
    public static var closed: Code { .closed }
    public static var invalidArgument: Code { .invalidArgument }
}

extension IOReactorError.Code {
    /// Lets callers write `catch IOReactorError.timeout`.
    public static func ~= (code: IOReactorError.Code, error: any Error) -> Bool {
        (error as? IOReactorError)?.code == code
    }
}

extension IOReactorError: CustomStringConvertible {
    public var description: String {
        var text = "IOReactorError.\(self.code)"
        if self.errno != 0 { text += " (errno \(self.errno))" }
        return text + ": \(self.reason)"
    }
}
