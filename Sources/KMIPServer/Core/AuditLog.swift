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

#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// One line of the audit log: who did what to which object, and how it ended.
public struct AuditEvent: Sendable {
    public var time: Int64
    public var tenantID: String
    public var clientFingerprint: String
    public var operation: String
    public var uniqueIdentifier: String?
    /// `success` or the Result Reason's name.
    public var result: String

    public init(time: Int64, tenantID: String, clientFingerprint: String, operation: String, uniqueIdentifier: String?, result: String) {
        self.time = time
        self.tenantID = tenantID
        self.clientFingerprint = clientFingerprint
        self.operation = operation
        self.uniqueIdentifier = uniqueIdentifier
        self.result = result
    }

    /// The JSON line (without the newline). Values are escaped; no key material is ever passed in.
    public var jsonLine: String {
        var fields = [
            "\"time\":\(self.time)",
            "\"tenant\":\(Self.quote(self.tenantID))",
            "\"client\":\(Self.quote(self.clientFingerprint))",
            "\"operation\":\(Self.quote(self.operation))",
        ]
        if let uid = self.uniqueIdentifier { fields.append("\"uid\":\(Self.quote(uid))") }
        fields.append("\"result\":\(Self.quote(self.result))")
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Where audit events go.
public protocol AuditSink: Sendable {
    /// Records a batch of events durably before returning.
    func record(_ events: [AuditEvent]) async throws
}

/// An append-only JSON-lines file; every event is on disk (written and fsynced) before `record`
/// returns.
///
/// During a boot storm hundreds of requests finish at once, and one fsync each would make the disk
/// the bottleneck. Events that arrive while a flush is running therefore share the next one (group
/// commit): one write and one fsync for all of them. Flushes run on a serial dispatch queue, so the
/// cooperative thread pool never waits on the disk.
public final class AuditLogFile: AuditSink, @unchecked Sendable {
    private struct Pending {
        var text = ""
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var flushScheduled = false
    }

    private let fd: Int32
    private let queue: DispatchQueue
    private let pending = Mutex(Pending())

    /// Opens (creating with mode 0600) the log at `path`.
    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AuditLogError(path: path, errno: errno) }
        self.fd = fd
        self.queue = DispatchQueue(label: "keystorm-audit", qos: .utility)
    }

    deinit {
        close(self.fd)
    }

    public func record(_ events: [AuditEvent]) async throws {
        guard !events.isEmpty else { return }
        var lines = ""
        for event in events { lines += event.jsonLine + "\n" }
        let text = lines
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let schedule = self.pending.withLock { pending in
                pending.text += text
                pending.waiters.append(continuation)
                defer { pending.flushScheduled = true }
                return !pending.flushScheduled
            }
            if schedule { self.queue.async { self.flush() } }
        }
    }

    /// Writes and fsyncs everything pending, then wakes its writers. Runs on `queue` only.
    private func flush() {
        let batch = self.pending.withLock { pending in
            defer { pending = Pending() }
            return pending
        }
        let result = Result { try self.writeAndSync(batch.text) }
        for waiter in batch.waiters { waiter.resume(with: result) }
    }

    private func writeAndSync(_ text: String) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(self.fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw AuditLogError(path: "audit log", errno: errno)
            }
            offset += written
        }
        while fsync(self.fd) != 0 {
            if errno != EINTR { throw AuditLogError(path: "audit log", errno: errno) }
        }
    }
}

/// The audit log could not be written.
public struct AuditLogError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "audit log \(self.path): \(String(cString: strerror(self.errno)))" }
}
