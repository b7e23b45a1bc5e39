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
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Reads and writes the small PEM files of certificates and keys with POSIX calls, so a private key file
/// is created with mode `0600` from its first byte (no window in which it is world-readable).
enum PEMFile {
    /// PEM files larger than this are refused: a certificate bundle is a few kilobytes.
    static let maximumSize = 1 << 20

    /// Reads a whole file as UTF-8 text.
    static func readText(_ path: String) throws(PKIError) -> String {
        let fd = Self.retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw Self.error("cannot open", path) }
        defer { _ = close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                Self.retrying { read(fd, buffer.baseAddress, buffer.count) }
            }
            guard count >= 0 else { throw Self.error("cannot read", path) }
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= Self.maximumSize else {
                throw PKIError(.fileSystem, reason: "\(path) is larger than \(Self.maximumSize) bytes")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Creates `path` holding `text` with permission bits `mode`, atomically and exclusively: the
    /// text goes to a temporary file that is fsynced and then linked to `path`, which fails if
    /// `path` exists. An existing file (another key, the master key) is never replaced, and a
    /// reader never sees a half-written file.
    static func writeText(_ text: String, to path: String, mode: mode_t) throws(PKIError) {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = Self.retrying { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode) }
        guard fd >= 0 else { throw Self.error("cannot create", temporary) }
        var failure: PKIError?
        // The umask may have removed bits; set exactly `mode` (never more than asked).
        if fchmod(fd, mode) != 0 { failure = Self.error("cannot chmod", temporary) }
        let bytes = Array(text.utf8)
        var offset = 0
        while failure == nil, offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { buffer in
                Self.retrying { write(fd, buffer.baseAddress, buffer.count) }
            }
            if written < 0 { failure = Self.error("cannot write", temporary) } else { offset += written }
        }
        if failure == nil, fsync(fd) != 0 { failure = Self.error("cannot fsync", temporary) }
        if close(fd) != 0, failure == nil { failure = Self.error("cannot close", temporary) }
        if failure == nil, link(temporary, path) != 0 {
            failure =
                errno == EEXIST
                ? PKIError(
                    .fileSystem,
                    reason: "\(path) already exists; Keystorm never replaces a certificate or key file"
                )
                : Self.error("cannot create", path)
        }
        _ = unlink(temporary)
        if let failure { throw failure }
    }

    private static func retrying<Result: BinaryInteger>(_ call: () -> Result) -> Result {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    private static func error(_ action: String, _ path: String) -> PKIError {
        let code = errno
        let message = String(cString: strerror(code))
        return PKIError(.fileSystem, reason: "\(action) \(path): \(message) (errno \(code))")
    }
}

extension PEMFile {
    /// Whether `path` names an existing file (or anything else that exists).
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}
