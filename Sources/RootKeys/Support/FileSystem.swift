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
#elseif canImport(Musl)
import Musl
#endif

/// The small, blocking file operations of the Local provider: read a key file, write one atomically.
///
/// Everything here blocks, so it only runs on ``SerialIOQueue``, never on the cooperative pool.
enum FileSystem {
    /// The one funnel for system calls that return -1 and set `errno`.
    ///
    /// Retries `EINTR`; returns nil for an `errno` in `expected` (a missing file is an answer, not
    /// a failure); crashes on `EBADF` and `EFAULT`, which only a bug in Keystorm can cause; throws
    /// ``RootKeyError/io`` naming the call, the path and the error otherwise.
    @discardableResult
    static func syscall<T: SignedInteger>(
        _ function: StaticString,
        path: String,
        expected: Set<Int32> = [],
        file: String = #fileID,
        line: UInt = #line,
        _ body: () -> T
    ) throws -> T? {
        while true {
            let result = body()
            if result != -1 { return result }
            let error = errno
            switch error {
            case EINTR:
                continue
            case EBADF, EFAULT:
                preconditionFailure("\(function)(\(path)) failed with \(Self.describe(error)): a Keystorm bug")
            case _ where expected.contains(error):
                return nil
            default:
                throw RootKeyError(.io, reason: "\(function)(\(path)): \(Self.describe(error))", file: file, line: line)
            }
        }
    }

    /// Reads a whole file and its permission bits; nil when it does not exist. The caller wipes the
    /// bytes when they are secret. `O_NONBLOCK` keeps a FIFO planted at `path` from hanging the open;
    /// anything but a regular file is then refused.
    static func readFile(at path: String) throws -> (bytes: [UInt8], mode: mode_t)? {
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK
        guard let fd = try Self.syscall("open", path: path, expected: [ENOENT], { open(path, flags) }) else {
            return nil
        }
        defer { Self.closeFile(fd, path: path) }
        var status = stat()
        try Self.syscall("fstat", path: path) { fstat(fd, &status) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw RootKeyError(.io, reason: "\(path) is not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = try bytes.withUnsafeMutableBytes { buffer in
                try Self.syscall("read", path: path) {
                    read(fd, buffer.baseAddress! + offset, buffer.count - offset)
                }!
            }
            if count == 0 { break }
            offset += count
        }
        if offset < bytes.count {
            SecretBytes.wipe(&bytes)
            throw RootKeyError(.io, reason: "\(path) shrank while it was read")
        }
        return (bytes, status.st_mode & 0o7777)
    }

    /// Whether something exists at `path`.
    static func exists(_ path: String) throws -> Bool {
        var status = stat()
        return try Self.syscall("stat", path: path, expected: [ENOENT]) { stat(path, &status) } != nil
    }

    /// Creates `path` and its missing parents with mode 0700.
    static func createDirectory(_ path: String) throws {
        if try Self.exists(path) { return }
        let parent = Self.parentDirectory(of: path)
        if parent != path, !(try Self.exists(parent)) { try Self.createDirectory(parent) }
        try Self.syscall("mkdir", path: path, expected: [EEXIST]) { mkdir(path, 0o700) }
    }

    /// Replaces `path` with `bytes` so that a crash leaves either the old or the new file: writes
    /// `path.tmp` (mode `mode`), fsyncs it, renames it over `path`, and fsyncs the directory.
    static func writeAtomically(_ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp"
        try Self.writeSynced(bytes, to: temporary, flags: O_TRUNC, mode: mode)
        try Self.syscall("rename", path: path) { rename(temporary, path) }
        try Self.syncDirectory(of: path)
    }

    /// Creates `path` with `bytes` unless it exists (then returns false): writes a temporary file,
    /// fsyncs it, hard-links it to `path` (which fails rather than replace), removes the temporary
    /// name and fsyncs the directory. Two processes starting together agree on one file.
    static func createExclusively(_ bytes: UnsafeRawBufferPointer, at path: String, mode: mode_t) throws -> Bool {
        let temporary = path + ".tmp-\(getpid())"
        try Self.syscall("unlink", path: temporary, expected: [ENOENT]) { unlink(temporary) }
        try Self.writeSynced(bytes, to: temporary, flags: O_EXCL, mode: mode)
        defer { _ = try? Self.syscall("unlink", path: temporary, expected: [ENOENT]) { unlink(temporary) } }
        let linked = try Self.syscall("link", path: path, expected: [EEXIST]) { link(temporary, path) } != nil
        try Self.syncDirectory(of: path)
        return linked
    }

    /// The directory part of `path` (`.` when there is none).
    /// Runs `body` holding an exclusive `flock` on `path` (created 0600 when missing). Blocks the
    /// calling thread while another process holds it: call it on the serial I/O queue only.
    static func withExclusiveLock<T>(at path: String, _ body: () throws -> T) throws -> T {
        guard let fd = try Self.syscall("open", path: path, { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }) else {
            throw RootKeyError(.io, reason: "open(\(path)) failed")
        }
        defer { Self.closeFile(fd, path: path) }
        try Self.syscall("flock", path: path) { flock(fd, LOCK_EX) }
        defer { _ = flock(fd, LOCK_UN) }
        return try body()
    }

    static func parentDirectory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    private static func writeSynced(_ bytes: UnsafeRawBufferPointer, to path: String, flags: Int32, mode: mode_t) throws
    {
        let fd = try Self.syscall("open", path: path) {
            open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, mode)
        }!
        defer { Self.closeFile(fd, path: path) }
        // The umask can only narrow `mode`; fchmod also narrows a file left by an older run.
        try Self.syscall("fchmod", path: path) { fchmod(fd, mode) }
        var offset = 0
        while offset < bytes.count {
            let written = try Self.syscall("write", path: path) {
                write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            }!
            offset += written
        }
        try Self.syscall("fsync", path: path) { fsync(fd) }
    }

    private static func syncDirectory(of path: String) throws {
        let directory = Self.parentDirectory(of: path)
        let fd = try Self.syscall("open", path: directory) { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }!
        defer { Self.closeFile(fd, path: directory) }
        try Self.syscall("fsync", path: directory) { fsync(fd) }
    }

    /// Closes without retrying: on Linux the descriptor is gone even when `close` reports `EINTR`.
    private static func closeFile(_ fd: Int32, path: String) {
        if close(fd) == -1, errno == EBADF {
            preconditionFailure("close(\(path)) failed with EBADF: a Keystorm bug")
        }
    }

    static func describe(_ error: Int32) -> String {
        "\(String(cString: strerror(error))) (errno \(error))"
    }
}
