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
import KMIPServer
import KeystormTestSupport
import Synchronization
import Testing

@Suite("Storage reserve")
struct StorageReserveTests {
    /// A disk whose free space the test sets.
    final class FakeDisk: Sendable {
        let free = Mutex<Int64>(1 << 30)
        func set(_ bytes: Int64) { self.free.withLock { $0 = bytes } }
    }

    /// Below the reserve, Create, Register and attribute changes are refused with a message that
    /// says why; Get, Get Attributes, Revoke and Destroy go on; every one is audited; freeing space
    /// lets writes through again without a restart.
    @Test func belowTheReserveWritesAreRefusedAndReadsServed() async throws {
        let disk = FakeDisk()
        let logged = Mutex<[String]>([])
        let server = try await TestServer.make(storageReserve: { directory in
            StorageReserve(
                directory: directory,
                reserveBytes: 64 << 20,
                log: { line in logged.withLock { $0.append(line) } },
                freeSpace: { _ in disk.free.withLock { $0 } }
            )
        })
        let kept = try await server.createKey()
        let other = try await server.createKey()

        disk.set(10 << 20)
        let create = try await server.call(aes256Create())
        expectFailure(create, .generalFailure)
        #expect(create.resultMessage?.contains("data disk is nearly full") == true)
        #expect(create.resultMessage?.contains("existing keys are still served") == true)
        let add = try await server.call(
            AddAttributeRequest(uniqueIdentifier: kept, attribute: .custom("x-Name", .textString("vm-1")))
        )
        expectFailure(add, .generalFailure)
        #expect(logged.withLock { $0 }.count == 1)
        #expect(logged.withLock { $0 }.first?.contains("below the reserve of 64 MiB") == true)

        let get = try await server.call(GetRequest(uniqueIdentifier: kept))
        #expect(get.resultStatus == .success, "\(get.resultMessage ?? "")")
        let attributes = try await server.call(GetAttributesRequest(uniqueIdentifier: kept))
        #expect(attributes.resultStatus == .success)
        let revoke = try await server.call(
            RevokeRequest(uniqueIdentifier: other, revocationReason: RevocationReason(code: .cessationOfOperation))
        )
        #expect(revoke.resultStatus == .success, "\(revoke.resultMessage ?? "")")

        disk.set(1 << 30)
        let again = try await server.call(aes256Create())
        #expect(again.resultStatus == .success, "\(again.resultMessage ?? "")")
        #expect(logged.withLock { $0 }.last?.contains("writes are accepted") == true)

        // The audit log has a line for each, refused ones included.
        let lines = try String(contentsOfFile: server.auditPath, encoding: .utf8).split(separator: "\n")
        #expect(
            lines.filter { $0.contains("\"operation\":\"Create\"") && $0.contains("\"result\":\"GeneralFailure\"") }
                .count == 1
        )
        #expect(
            lines.filter {
                $0.contains("\"operation\":\"AddAttribute\"") && $0.contains("\"result\":\"GeneralFailure\"")
            }.count == 1
        )
        #expect(
            lines.filter { $0.contains("\"operation\":\"Get\"") && $0.contains("\"result\":\"success\"") }.count == 1
        )
        #expect(
            lines.filter { $0.contains("\"operation\":\"Create\"") && $0.contains("\"result\":\"success\"") }.count == 3
        )
    }

    @Test func whichOperationsGrowTheStore() {
        for operation in [
            Operation.create, .register, .reKey, .addAttribute, .modifyAttribute, .deleteAttribute, .setAttribute,
            .createKeyPair,
        ] {
            #expect(StorageReserve.grows(operation), "\(operation.name)")
        }
        for operation in [
            Operation.get, .getAttributes, .getAttributeList, .locate, .activate, .revoke, .destroy, .query,
            .discoverVersions, .check,
        ] {
            #expect(!StorageReserve.grows(operation), "\(operation.name)")
        }
    }

    /// A reserve of 0 is off; a real disk with plenty of room refuses nothing.
    @Test func anOffOrRoomyReserveRefusesNothing() {
        let off = StorageReserve(
            directory: NSTemporaryDirectory(),
            reserveBytes: 0,
            log: { _ in },
            freeSpace: { _ in 0 }
        )
        #expect(off.check() == nil)
        let real = StorageReserve(directory: NSTemporaryDirectory(), reserveBytes: 1, log: { _ in })
        #expect(real.check() == nil)
        #expect(!real.isLow)
    }
}
