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
import KMIPServer
import Synchronization
import Testing

@Suite("Audit log")
struct AuditLogTests {
    /// Many requests finishing at once share fsyncs, and every one of their lines is on disk, whole,
    /// when its `record` returns.
    @Test func concurrentRecordsAllLandAsWholeLines() async throws {
        let path = NSTemporaryDirectory() + "keystorm-audit-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AuditLogFile(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<300 {
                group.addTask {
                    try await log.record([
                        AuditEvent(time: 1, tenantID: "t", clientFingerprint: "f", operation: "Get", uniqueIdentifier: "uid-\(i)", result: "success")
                    ])
                    // Durable before return: the line is already in the file.
                    let text = try String(contentsOfFile: path, encoding: .utf8)
                    #expect(text.contains("\"uid\":\"uid-\(i)\""))
                }
            }
            try await group.waitForAll()
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 300)
        #expect(Set(lines).count == 300)
        #expect(lines.allSatisfy { $0.hasPrefix("{\"time\":1,") && $0.hasSuffix("\"result\":\"success\"}") })
    }

    @Test func messagesAreEscaped() {
        let event = AuditEvent(time: 2, tenantID: "a\"b", clientFingerprint: "c\\d", operation: "Get\n", uniqueIdentifier: nil, result: "x")
        #expect(event.jsonLine == #"{"time":2,"tenant":"a\"b","client":"c\\d","operation":"Get\n","result":"x"}"#)
    }

    /// A client's Unique Identifier goes into the line; one of 300 KB must not make a 300 KB line.
    @Test func longFieldsAreCutWithAMarker() {
        let uid = String(repeating: "x", count: 300_000)
        let event = AuditEvent(time: 3, tenantID: "t", clientFingerprint: "f", operation: "Get", uniqueIdentifier: uid, result: "ItemNotFound")
        let line = event.jsonLine
        #expect(line.utf8.count < 2 * AuditEvent.maximumFieldBytes + 200)
        #expect(line.contains("\"uid\":\"" + String(repeating: "x", count: AuditEvent.maximumFieldBytes) + "...[truncated \(300_000 - AuditEvent.maximumFieldBytes) bytes]\""))
        #expect(line.hasSuffix("\"result\":\"ItemNotFound\"}"))
        // A cut never splits a character: 200 three-byte characters keep 85 whole ones.
        let wide = AuditEvent(time: 3, tenantID: String(repeating: "€", count: 200), clientFingerprint: "f", operation: "Get", uniqueIdentifier: nil, result: "x")
        #expect(wide.jsonLine.contains("\"tenant\":\"" + String(repeating: "€", count: 85) + "...[truncated 345 bytes]\""))
        // At the limit nothing is cut.
        let exact = String(repeating: "y", count: AuditEvent.maximumFieldBytes)
        #expect(AuditEvent(time: 3, tenantID: exact, clientFingerprint: "f", operation: "Get", uniqueIdentifier: nil, result: "x").jsonLine.contains("\"" + exact + "\""))
    }

    /// A crash in the middle of a write leaves half a line; opening the log removes it, so the
    /// next line does not run into it.
    @Test func aTornLastLineIsRemovedAtOpen() async throws {
        let path = NSTemporaryDirectory() + "keystorm-audit-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let whole = #"{"time":1,"tenant":"t","client":"f","operation":"Get","result":"success"}"# + "\n"
        try (whole + whole + #"{"time":2,"tenant":"t","cli"#).write(toFile: path, atomically: true, encoding: .utf8)
        let log = try AuditLogFile(path: path)
        #expect(log.repairedBytes == #"{"time":2,"tenant":"t","cli"#.utf8.count)
        try await log.record([AuditEvent(time: 3, tenantID: "t", clientFingerprint: "f", operation: "Create", uniqueIdentifier: "u", result: "success")])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4)
        #expect(lines[2] == #"{"time":3,"tenant":"t","client":"f","operation":"Create","uid":"u","result":"success"}"#)
        #expect(lines[3].isEmpty)

        // A file of one torn line becomes empty; a clean file is left alone.
        let other = NSTemporaryDirectory() + "keystorm-audit-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: other) }
        try #"{"time":1"#.write(toFile: other, atomically: true, encoding: .utf8)
        #expect(try AuditLogFile(path: other).repairedBytes == 9)
        #expect(try String(contentsOfFile: other, encoding: .utf8).isEmpty)
        #expect(try AuditLogFile(path: path).repairedBytes == 0)
    }

    /// A log that cannot be written throws (the server then fails closed), says why for /readyz,
    /// and logs the failure once, not once per write. Recovery on a freed disk is covered live by
    /// DiskFullLiveTests.
    @Test func aFailedWriteIsReportedOnce() async throws {
        let path = NSTemporaryDirectory() + "keystorm-audit-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let messages = Mutex<[String]>([])
        let log = try AuditLogFile(path: path, log: { line in messages.withLock { $0.append(line) } })
        #expect(log.failure == nil)
        let event = AuditEvent(time: 1, tenantID: "t", clientFingerprint: "f", operation: "Get", uniqueIdentifier: nil, result: "success")
        try await log.record([event])
        // /dev/full answers every write with ENOSPC: the same file descriptor cannot be swapped, so
        // check the error's words on a log opened there.
        let full = try AuditLogFile(path: "/dev/full", log: { line in messages.withLock { $0.append(line) } })
        await #expect(throws: AuditLogError.self) { try await full.record([event]) }
        #expect(full.failure?.contains("the disk is full") == true)
        #expect(messages.withLock { $0 }.contains { $0.contains("cannot be written") && $0.contains("the disk is full") })
        await #expect(throws: AuditLogError.self) { try await full.record([event]) }
        // Logged once per failure, not per write; the healthy log is unaffected.
        #expect(messages.withLock { $0 }.filter { $0.contains("cannot be written") }.count == 1)
        #expect(log.failure == nil)
        #expect(await log.recheck() == nil)
    }
}
