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
import KeyStore
import Metrics
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

    /// The longest value of a field, in UTF-8 bytes, before escaping. A longer value (a client
    /// can send a Unique Identifier of any length) is cut there and marked, so that one line
    /// stays small whatever a client sends.
    public static let maximumFieldBytes = 256

    /// The JSON line (without the newline). Values are escaped and bounded (see
    /// ``maximumFieldBytes``); no key material is ever passed in.
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

    /// `text` as a JSON string, cut after ``maximumFieldBytes`` bytes (at a character boundary)
    /// with the marker `...[truncated N bytes]`.
    static func quote(_ text: String) -> String {
        let total = text.utf8.count
        var kept = 0
        var out = "\""
        for scalar in text.unicodeScalars {
            let size = UTF8.width(scalar)
            if kept + size > Self.maximumFieldBytes {
                return out + "...[truncated \(total - kept) bytes]\""
            }
            kept += size
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
///
/// The file holds whole lines only: a write that fails part-way (a full disk) is cut back to the
/// last whole line, and a line left half-written by a crash is removed when the file is opened
/// (``repairedBytes``). While the file cannot be written, ``failure`` says why (for `/readyz`),
/// each change is logged once, and `keystorm_audit_log_writable` is 0; the server refuses
/// operations rather than serve them unaudited, and the next write that succeeds clears it.
public final class AuditLogFile: AuditSink, @unchecked Sendable {
    private struct Pending {
        var text = ""
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var flushScheduled = false
    }

    /// Where the log is.
    public let path: String
    /// Bytes of a torn last line removed when the file was opened (0 when it ended cleanly).
    public let repairedBytes: Int

    private let fd: Int32
    private let queue: DispatchQueue
    private let pending = Mutex(Pending())
    private let lastFailure = Mutex<String?>(nil)
    private let log: @Sendable (String) -> Void
    private let writable: Gauge
    private let failures: Counter

    /// Opens (creating with mode 0600) the log at `path`, removing a torn last line.
    ///
    /// - Parameters:
    ///   - path: The log file.
    ///   - log: Where the start and end of a write failure are reported.
    public init(path: String, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw AuditLogError(path: path, errno: errno) }
        do {
            self.repairedBytes = try Self.repairTornTail(fd: fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        self.path = path
        self.fd = fd
        self.log = log
        self.queue = DispatchQueue(label: "keystorm-audit", qos: .utility)
        self.writable = Gauge(label: "keystorm_audit_log_writable")
        self.failures = Counter(label: "keystorm_audit_log_write_failures_total")
        self.writable.record(1)
    }

    deinit {
        close(self.fd)
    }

    /// Why the last write failed, or `nil` when it succeeded (or none was tried yet).
    public var failure: String? { self.lastFailure.withLock { $0 } }

    /// Checks, without writing a line, whether a failed log has become writable (space was
    /// freed, the file system answers fsync) and clears ``failure`` if so; for `/readyz`, which
    /// must recover even when no client sends an operation. Returns the failure that remains.
    public func recheck() async -> String? {
        guard self.failure != nil else { return nil }
        return await withCheckedContinuation { continuation in
            self.queue.async {
                let free = DiskSpace.available(at: self.path) ?? 0
                if free >= Self.recoveryFreeBytes, fsync(self.fd) == 0 { self.noteOutcome(.success(())) }
                continuation.resume(returning: self.failure)
            }
        }
    }

    /// The free space a full disk must regain before ``recheck()`` calls the log writable.
    static let recoveryFreeBytes: Int64 = 1 << 20

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
        self.noteOutcome(result)
        for waiter in batch.waiters { waiter.resume(with: result) }
    }

    private func noteOutcome(_ result: Result<Void, any Error>) {
        let message: String?
        switch result {
        case .success: message = nil
        case .failure(let error): message = "\(error)"
        }
        let previous = self.lastFailure.withLock { state in
            defer { state = message }
            return state
        }
        if let message {
            self.failures.increment()
            self.writable.record(0)
            if previous == nil {
                self.log("the audit log cannot be written (\(message)): every KMIP operation is refused until it can")
            }
        } else if previous != nil {
            self.writable.record(1)
            self.log("the audit log is writable again: serving resumes")
        }
    }

    private func writeAndSync(_ text: String) throws {
        // Where the file ends before this batch: a write that fails part-way is cut back here,
        // so the file never ends in half a line.
        let start = lseek(self.fd, 0, SEEK_END)
        guard start >= 0 else { throw AuditLogError(path: self.path, errno: errno) }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(self.fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let code = errno
                if offset > 0 { _ = ftruncate(self.fd, start) }
                throw AuditLogError(path: self.path, errno: code)
            }
            offset += written
        }
        while fsync(self.fd) != 0 {
            if errno != EINTR {
                let code = errno
                _ = ftruncate(self.fd, start)
                throw AuditLogError(path: self.path, errno: code)
            }
        }
    }

    /// Cuts the file back to its last newline when it does not end with one (a crash in the middle
    /// of a write), and returns how many bytes were removed.
    static func repairTornTail(fd: Int32, path: String) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AuditLogError(path: path, errno: errno) }
        let size = Int64(info.st_size)
        guard size > 0 else { return 0 }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var end = size
        while end > 0 {
            let length = Int(min(Int64(chunk.count), end))
            let start = end - Int64(length)
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(start)) }
            guard count == length else { throw AuditLogError(path: path, errno: count < 0 ? errno : EIO) }
            if let newline = chunk[0..<length].lastIndex(of: UInt8(ascii: "\n")) {
                let keep = start + Int64(newline) + 1
                if keep == size { return 0 }
                guard ftruncate(fd, off_t(keep)) == 0, fsync(fd) == 0 else { throw AuditLogError(path: path, errno: errno) }
                return Int(size - keep)
            }
            end = start
        }
        // No newline at all: a single torn line.
        guard ftruncate(fd, 0) == 0, fsync(fd) == 0 else { throw AuditLogError(path: path, errno: errno) }
        return Int(size)
    }
}

/// The audit log could not be written.
public struct AuditLogError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String {
        let cause = self.errno == ENOSPC || self.errno == EDQUOT ? "the disk is full" : String(cString: strerror(self.errno))
        return "audit log \(self.path): \(cause)"
    }
}
