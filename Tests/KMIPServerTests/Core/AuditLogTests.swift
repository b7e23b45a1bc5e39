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
}
