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
import GRDB
import Synchronization
import Testing

@testable import KeyStore

@Suite("SQLiteKeyStore group commit")
struct GroupCommitterTests {
    /// Counts the commits of the store's writer connection.
    private final class CommitCounter: TransactionObserver, Sendable {
        private let commits = Mutex(0)
        var count: Int { self.commits.withLock { $0 } }

        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { self.commits.withLock { $0 += 1 } }
        func databaseDidRollback(_ db: Database) {}
    }

    private enum Outcome: Equatable {
        case done
        case failed(KeyStoreError.Code)
    }

    @Test func writesQueuedDuringACommitShareTheNextOneAndSucceedOrFailAlone() async throws {
        try await withTemporaryStore { store, path in
            try await store.createTenant(Sample.tenant("a"))
            try await store.insert(Sample.object(tenantID: "a", uid: "contended", state: 1))
            let counter = CommitCounter()
            store.writer.add(transactionObserver: counter, extent: .databaseLifetime)

            // Hold the writer until the 22 writes below have queued up behind it (at most 20 s,
            // so that a slow machine queues them late rather than in several groups).
            let committer = try #require(store.groupCommitter)
            let holding = Atomic(false)
            async let blocker: Void = store.write { _ in
                holding.store(true, ordering: .releasing)
                let deadline = Date().addingTimeInterval(20)
                while committer.pendingCount < 22 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
            }
            while !holding.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(5)) }

            let outcomes = await withTaskGroup(of: (String, Outcome).self) { group in
                for index in 0..<20 {
                    // d0...d9, each inserted twice: one of each pair must fail.
                    let uid = "d\(index % 10)"
                    group.addTask {
                        do {
                            try await store.insert(Sample.object(tenantID: "a", uid: uid))
                            return (uid, .done)
                        } catch let error as KeyStoreError {
                            return (uid, .failed(error.code))
                        } catch {
                            return (uid, .failed(.storage))
                        }
                    }
                }
                for attempt in 0..<2 {
                    group.addTask {
                        do {
                            let update = Sample.object(tenantID: "a", uid: "contended", state: 2 + UInt32(attempt))
                            try await store.update(update, expectedRevision: 0)
                            return ("contended", .done)
                        } catch let error as KeyStoreError {
                            return ("contended", .failed(error.code))
                        } catch {
                            return ("contended", .failed(.storage))
                        }
                    }
                }
                return await group.reduce(into: [String: [Outcome]]()) { $0[$1.0, default: []].append($1.1) }
            }
            try await blocker

            for index in 0..<10 {
                #expect(outcomes["d\(index)"]?.filter { $0 == .done }.count == 1)
                #expect(outcomes["d\(index)"]?.filter { $0 == .failed(.alreadyExists) }.count == 1)
            }
            #expect(outcomes["contended"]?.filter { $0 == .done }.count == 1)
            #expect(outcomes["contended"]?.filter { $0 == .failed(.conflict) }.count == 1)
            // The blocker's commit, then one shared commit for the 22 writes (a failed insert
            // rolls back to its savepoint, not the group).
            #expect(counter.count == 2, "\(counter.count) commits")

            let page = try await store.objects(tenantID: "a", matching: ObjectQuery())
            #expect(page.totalMatches == 11)
            #expect(try await store.object(tenantID: "a", uniqueIdentifier: "contended")?.revision == 1)

            // Everything acknowledged is on disk for an independent connection.
            let observer = try DatabaseQueue(path: path)
            defer { try? observer.close() }
            #expect(try await observer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM objects") } == 11)
        }
    }

    @Test func aWriteCancelledBeforeItIsQueuedDoesNotRun() async throws {
        try await withTemporaryStore { store, _ in
            try await store.createTenant(Sample.tenant("a"))
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                try await store.insert(Sample.object(tenantID: "a", uid: "k1"))
            }
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(try await store.object(tenantID: "a", uniqueIdentifier: "k1") == nil)
        }
    }
}
