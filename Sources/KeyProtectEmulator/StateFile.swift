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

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the state file holds: the emulated HSM's keys (with their material) and the HMAC key of
/// the IAM tokens, so that tokens and ciphertexts stay valid across restarts.
struct PersistedState: Codable, Sendable {
    var formatVersion = 1
    var tokenSecret: Data
    var keys: [RootKey]

    init(tokenSecret: Data, keys: [RootKey]) {
        self.tokenSecret = tokenSecret
        self.keys = keys
    }
}

/// The `--state-file`: JSON, mode 0600, replaced atomically (write a temporary file, fsync,
/// rename, fsync the directory). All file I/O runs on a serial dispatch queue, off the
/// cooperative pool; a write older than the one already on disk is skipped.
final class StateFile: Sendable {
    let path: String
    private let queue = DispatchQueue(label: "KeyProtectEmulator.StateFile")
    /// The generation on disk; touched only on `queue`.
    private let written = Mutex<UInt64>(0)

    init(path: String) {
        self.path = path
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads the file; `nil` when it does not exist.
    func load() async throws -> PersistedState? {
        let path = self.path
        return try await self.onQueue {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .millisecondsSince1970
            return try decoder.decode(PersistedState.self, from: data)
        }
    }

    /// Writes `state` unless a newer generation is already on disk.
    func write(_ state: PersistedState, generation: UInt64) async throws {
        let path = self.path
        try await self.onQueue {
            guard self.written.withLock({ $0 < generation }) else { return }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.dateEncodingStrategy = .millisecondsSince1970
            try Self.replace(path, with: try encoder.encode(state))
            self.written.withLock { $0 = generation }
        }
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    private static func replace(_ path: String, with data: Data) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(description: "open \(temporary): \(String(cString: strerror(errno)))") }
        var closed = false
        defer { if !closed { close(fd) } }
        // O_CREAT's mode does not apply to an existing file.
        _ = fchmod(fd, 0o600)
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    throw Failure(description: "write \(temporary): \(String(cString: strerror(errno)))")
                }
                offset += count
            }
        }
        guard fsync(fd) == 0 else {
            throw Failure(description: "fsync \(temporary): \(String(cString: strerror(errno)))")
        }
        closed = true
        guard close(fd) == 0 else {
            throw Failure(description: "close \(temporary): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            throw Failure(description: "rename \(temporary): \(String(cString: strerror(errno)))")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }
}
