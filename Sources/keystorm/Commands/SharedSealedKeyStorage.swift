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

import KeyStore
import RootKeys

/// The Local provider's sealed root keys as a shared value of the key store, for nodes that share
/// a PostgreSQL store: every node opens, rotates and deletes the same root keys, and sees the
/// changes of the others at its next refresh. The value is sealed under the master key, which is
/// why every node needs the same one.
struct SharedSealedKeyStorage: LocalSealedKeyStorage {
    static let valueName = "rootkeys.local.sealed"

    let store: any KeyStore
    let storeDescription: String

    var location: String { "\(Self.valueName) in the store \(self.storeDescription)" }

    func read() async throws -> [UInt8]? {
        try await self.store.sharedValue(named: Self.valueName)
    }

    func update<Result: Sendable>(
        _ change: @escaping @Sendable ([UInt8]?) throws -> (sealed: [UInt8], result: Result)
    ) async throws -> Result {
        try await self.store.updateSharedValue(named: Self.valueName) { current in
            let (sealed, result) = try change(current)
            return (sealed, result)
        }
    }
}
