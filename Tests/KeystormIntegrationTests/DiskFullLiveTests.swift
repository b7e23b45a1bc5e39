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
import KMIPCodec
import KMIPModel
import Testing

extension LiveServerTests {
    /// The data directory on a 24 MiB tmpfs, filled by hand: below the reserve writes are refused
    /// and reads served, on a full disk nothing is served unaudited, and freeing space recovers
    /// without a restart. Needs root (to mount); CI runs as root.
    @Suite("Disk full, live")
    struct DiskFullLiveTests {
        static let unavailableReason: String? = {
            guard getuid() == 0 else { return "skipped: mounting a small tmpfs needs root" }
            guard Subprocess.onPath("mount") != nil, Subprocess.onPath("umount") != nil else {
                return "skipped: mount/umount not found"
            }
            return nil
        }()

        @Test(.enabled(if: Self.unavailableReason == nil, Comment(rawValue: Self.unavailableReason ?? "")))
        func readsAreServedWritesRefusedAndRecoveryNeedsNoRestart() async throws {
            var mounted: String?
            let server = try await LiveServer.start(arguments: ["--storage-reserve", "\(6 << 20)"]) { data in
                try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
                let outcome = try await Subprocess.run(
                    "/bin/mount",
                    ["-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", data]
                )
                guard outcome.succeeded else { throw LiveTestFailure("mount tmpfs: \(outcome.output)") }
                mounted = data
            }
            do {
                try await Self.exercise(server)
            } catch {
                await Self.cleanUp(server, mounted)
                throw error
            }
            await Self.cleanUp(server, mounted)
        }

        static func cleanUp(_ server: LiveServer, _ mounted: String?) async {
            await server.stop(removing: false)
            if let mounted { _ = try? await Subprocess.run("/bin/umount", ["-l", mounted]) }
            try? FileManager.default.removeItem(atPath: server.root)
        }

        static func exercise(_ server: LiveServer) async throws {
            let client = try server.client()
            let key = try await client.createKey()
            let material = try await client.keyMaterial(key).material
            #expect(material?.count == 32)
            let admin = try await server.adminPort()
            let filler = server.dataDirectory + "/filler"

            // 1. Below the reserve (about 3 MiB left of 6 MiB reserved).
            let free = DiskSpaceProbe.available(server.dataDirectory)
            try DiskSpaceProbe.fill(filler, bytes: max(0, free - (3 << 20)))
            let refused = try await client.call(aes256Create())
            expectFailure(refused, .generalFailure, "Create below the reserve")
            #expect(
                refused.resultMessage?.contains("data disk is nearly full") == true,
                "\(refused.resultMessage ?? "")"
            )
            #expect(try await client.keyMaterial(key).material == material, "a Get below the reserve")
            let lowReady = try await retrying(
                timeout: .seconds(30),
                every: .milliseconds(200),
                "/readyz saying the disk is low"
            ) {
                () -> AdminHTTPProbe.Answer? in
                let answer = try await AdminHTTPProbe.request(port: admin, "GET", "/readyz")
                return answer.status == 503 ? answer : nil
            }
            #expect(lowReady.body.contains("nearly full"), "\(lowReady.body)")
            let metrics = try await AdminHTTPProbe.request(port: admin, "GET", "/metrics")
            #expect(metrics.body.contains("keystorm_data_disk_low 1.0"), "keystorm_data_disk_low not 1")
            #expect(metrics.body.contains("keystorm_writes_refused_total{reason=\"disk_low\"} 1"))
            #expect(server.serverLog.contains("below the reserve"), "no log line for the low disk")

            // 2. Full: the audit log cannot be written, so nothing is served (fail closed). The
            // file system's last partly used pages still take a few lines, so Gets succeed until
            // the audit log's page is full; every one of them is audited (counted below).
            try DiskSpaceProbe.fill(filler + "-2", bytes: Int64.max)
            var servedWhileFilling = 0
            var blind: (material: [UInt8]?, item: ResponseBatchItem)?
            for _ in 0..<500 {
                let attempt = try await client.keyMaterial(key)
                if attempt.material == nil {
                    blind = attempt
                    break
                }
                servedWhileFilling += 1
            }
            guard let blind else { throw LiveTestFailure("500 Gets were answered on a full disk") }
            #expect(
                blind.item.resultMessage?.contains("audit log could not be written: the disk is full") == true,
                "\(blind.item.resultMessage ?? "")"
            )
            let stillBlind = try await client.keyMaterial(key)
            #expect(stillBlind.material == nil, "a Get was served while the audit log could not be written")
            // /readyz caches its answer for a second.
            let fullReady = try await retrying(
                timeout: .seconds(30),
                every: .milliseconds(200),
                "/readyz naming the audit log"
            ) {
                () -> AdminHTTPProbe.Answer? in
                let answer = try await AdminHTTPProbe.request(port: admin, "GET", "/readyz")
                return answer.body.contains("audit log cannot be written") ? answer : nil
            }
            #expect(fullReady.status == 503)
            #expect(server.serverLog.contains("the audit log cannot be written"), "no log line for the audit failure")

            // 3. Space freed: reads and writes come back without a restart, and /readyz with them.
            try FileManager.default.removeItem(atPath: filler + "-2")
            try FileManager.default.removeItem(atPath: filler)
            #expect(try await client.keyMaterial(key).material == material, "a Get after space was freed")
            let created = try await client.createKey()
            #expect(try await client.keyMaterial(created).material?.count == 32)
            _ = try await retrying(timeout: .seconds(30), every: .milliseconds(200), "/readyz ready again") {
                () -> Bool? in
                try await AdminHTTPProbe.request(port: admin, "GET", "/readyz").status == 200 ? true : nil
            }

            // The audit log holds whole JSON lines only, the refused Create among them.
            let text = try String(contentsOfFile: server.dataDirectory + "/audit.log", encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            let lines = text.split(separator: "\n")
            for line in lines {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not a JSON line: \(line)")
            }
            #expect(
                lines.contains {
                    $0.contains("\"operation\":\"Create\"") && $0.contains("\"result\":\"GeneralFailure\"")
                }
            )
            // Every Get that returned material has its line: 2 before the disk filled, those served
            // while it filled, 2 after.
            let auditedGets = lines.filter {
                $0.contains("\"operation\":\"Get\"") && $0.contains("\"result\":\"success\"")
            }
            #expect(
                auditedGets.count == 4 + servedWhileFilling,
                "\(auditedGets.count) audited Gets, \(4 + servedWhileFilling) served"
            )

            // 4. A start on a full disk fails with a message that says the disk is full.
            await server.stop(removing: false)
            try DiskSpaceProbe.fill(filler + "-3", bytes: Int64.max)
            let start = try await Subprocess.run(
                server.binary,
                ["serve", "--data-dir", server.dataDirectory, "--listen", "127.0.0.1:0", "--admin-listen", "off"],
                environment: LiveServer.environment(),
                timeout: .seconds(60)
            )
            #expect(!start.succeeded, "keystorm serve started on a full disk")
            #expect(start.output.contains("is full"), "the start failure does not name the full disk: \(start.output)")
        }
    }
}

/// Free space of a file system, and a file that takes it.
enum DiskSpaceProbe {
    static func available(_ path: String) -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Writes up to `bytes` zero bytes to a new file at `path`, stopping at a full disk.
    static func fill(_ path: String, bytes: Int64) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LiveTestFailure("cannot create \(path): errno \(errno)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var left = bytes
        while left > 0 {
            let size = Int(min(Int64(chunk.count), left))
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC { break }
                throw LiveTestFailure("write \(path): errno \(errno)")
            }
            if written == 0 { break }
            left -= Int64(written)
        }
        _ = fsync(fd)
    }
}
