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
import Testing

@Suite("Name rules")
struct NameRulesTests {
    @Test(arguments: ["default", "kp2", "tenant-01", "a.b", "A_B", "x", String(repeating: "a", count: 64), "v1.2.3"])
    func validNames(_ name: String) {
        #expect(NameRules.problem(name, kind: "tenant id") == nil)
    }

    /// `.` and `..` (and anything that climbs or hides), separators, other scripts' look-alikes
    /// (a Cyrillic а in "аdmin"), spaces, control characters, empty and over-long names.
    @Test(arguments: [
        "", ".", "..", ".hidden", "../master", "a/b", "a\\b", "\u{0430}dmin", "café", "a b", "a\u{0}b", "tab\t",
        String(repeating: "a", count: 65), "clients/../..",
    ])
    func invalidNames(_ name: String) {
        let problem = NameRules.problem(name, kind: "tenant id")
        #expect(problem != nil, "\(name) was accepted")
        #expect(problem?.contains("tenant id") == true)
        #expect(!NameRules.isValid(name))
    }

    @Test func theMessageShowsInvisibleCharacters() {
        #expect(NameRules.problem("\u{0430}dmin", kind: "tenant id")?.contains("\\u{430}dmin") == true)
    }

    /// The store refuses an invalid tenant id itself, whoever calls it.
    @Test func theStoreRefusesAnInvalidTenantID() async throws {
        try await withTemporaryStore { store, _ in
            for id in ["..", ".", "\u{0430}dmin", "a/b"] {
                await expectKeyStoreError(.invalidName) { try await store.createTenant(Sample.tenant(id)) }
            }
            #expect(try await store.tenants().isEmpty)
            try await store.createTenant(Sample.tenant("tenant-1"))
            #expect(try await store.tenants().map(\.id) == ["tenant-1"])
        }
    }
}
