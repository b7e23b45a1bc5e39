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

/// Free space on the file system that holds the data directory, so that errors can say "disk
/// full" instead of an I/O error code, and the server can stop accepting new writes before the
/// disk is full.
public enum DiskSpace {
    /// Below this many available bytes a file system counts as full in error messages.
    public static let fullThreshold: Int64 = 1 << 20

    /// Bytes an unprivileged writer can still use on the file system holding `path` (or, when
    /// `path` does not exist, its directory); `nil` when that cannot be read.
    public static func available(at path: String) -> Int64? {
        var info = statvfs()
        if statvfs(path, &info) == 0 { return Int64(info.f_bavail) * Int64(info.f_frsize) }
        let directory = Self.directory(of: path)
        guard statvfs(directory, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Whether the file system holding `path` has (almost) no space left.
    public static func isFull(at path: String) -> Bool {
        guard let available = Self.available(at: path) else { return false }
        return available < Self.fullThreshold
    }

    /// A note to append to an error about `path`: " (the disk holding DIR is full)" when `code`
    /// is `ENOSPC`/`EDQUOT` or the file system has no space left, "" otherwise.
    public static func fullNote(_ code: Int32?, path: String) -> String {
        if let code, code == ENOSPC || code == EDQUOT {
            return " (the disk holding \(Self.directory(of: path)) is full)"
        }
        return Self.isFull(at: path) ? " (the disk holding \(Self.directory(of: path)) is full)" : ""
    }

    /// The directory part of `path` (`.` for a bare file name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}
