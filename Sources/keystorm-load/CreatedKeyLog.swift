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

import ArgumentParser
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `--created-file`: the Unique Identifier of every Create answered Success, one a line, each
/// written (one `write(2)`, no buffering) as its answer arrives. After a failover test, every key
/// listed must be readable: the answer said it was durable.
final class CreatedKeyLog: Sendable {
    private let descriptor: Mutex<Int32>

    /// Opens (appending to) `path`, creating it owner-only.
    init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ValidationError("--created-file: cannot open \(path): \(String(cString: strerror(errno)))")
        }
        self.descriptor = Mutex(fd)
    }

    deinit {
        self.descriptor.withLock { _ = close($0) }
    }

    /// Appends `uid` and a newline.
    func append(_ uid: String) {
        let line = Array((uid + "\n").utf8)
        self.descriptor.withLock { fd in
            var offset = 0
            while offset < line.count {
                let written = line[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
