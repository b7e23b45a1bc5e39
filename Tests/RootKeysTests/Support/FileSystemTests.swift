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
import Testing

@testable import RootKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite("FileSystem")
struct FileSystemTests {
    @Test(
        "parent directories",
        arguments: [
            ("a/b/c", "a/b"), ("/a", "/"), ("a", "."), ("/a/b/", "/a"), ("keystorm-data/master.key", "keystorm-data"),
        ]
    )
    func parent(path: String, parent: String) {
        #expect(FileSystem.parentDirectory(of: path) == parent)
    }

    @Test("atomic writes replace the file and leave no temporary file")
    func atomicWrite() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/file"
            try [UInt8]([1, 2, 3]).withUnsafeBytes { try FileSystem.writeAtomically($0, to: path, mode: 0o600) }
            try [UInt8]([4, 5]).withUnsafeBytes { try FileSystem.writeAtomically($0, to: path, mode: 0o600) }
            #expect(try readBytes(path) == [4, 5])
            #expect(try permissions(path) == 0o600)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["file"])
            let read = try #require(try FileSystem.readFile(at: path))
            #expect(read.bytes == [4, 5] && read.mode == 0o600)
            #expect(try FileSystem.readFile(at: directory + "/missing") == nil)
        }
    }

    @Test("exclusive creation never replaces an existing file")
    func exclusiveCreate() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/once"
            let first = try [UInt8]([1]).withUnsafeBytes { try FileSystem.createExclusively($0, at: path, mode: 0o600) }
            let second = try [UInt8]([2]).withUnsafeBytes {
                try FileSystem.createExclusively($0, at: path, mode: 0o600)
            }
            #expect(first)
            #expect(!second)
            #expect(try readBytes(path) == [1])
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["once"])
        }
    }

    @Test("a FIFO or a directory is refused at once instead of read")
    func notARegularFile() async throws {
        try await withTemporaryDirectory { directory in
            let fifo = directory + "/master.key"
            #expect(mkfifo(fifo, 0o600) == 0)
            let error = #expect(throws: RootKeyError.self) { try FileSystem.readFile(at: fifo) }
            #expect(error?.code == .io)
            let directoryError = #expect(throws: RootKeyError.self) { try FileSystem.readFile(at: directory) }
            #expect(directoryError?.code == .io)
        }
    }

    @Test("system-call failures are io errors naming the call and the path")
    func ioErrors() async throws {
        try await withTemporaryDirectory { directory in
            let error = #expect(throws: RootKeyError.self) {
                try [UInt8]([1]).withUnsafeBytes {
                    try FileSystem.writeAtomically($0, to: directory + "/no/such/dir/file", mode: 0o600)
                }
            }
            #expect(error?.code == .io)
            #expect(error?.reason.contains("open(\(directory)/no/such/dir/file.tmp)") == true)
        }
    }
}
