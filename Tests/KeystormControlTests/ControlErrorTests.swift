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
import KeyStore
import KeystormControl
import KeystormPKI
import RootKeys
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("ControlError")
struct ControlErrorTests {
    @Test("equality compares the code only; ~= matches by code; the description is the one-line reason")
    func equalityAndMatching() {
        let error = ControlError(.notFound, "no tenant 'x'\nsecond line")
        #expect(error == ControlError(.notFound, "other"))
        #expect(error != ControlError(.conflict, "no tenant 'x'"))
        #expect(ControlError.notFound ~= error)
        #expect(error.description == "no tenant 'x' second line")
        #expect(ControlError.Code.allCases.count == Set(ControlError.Code.allCases).count)
    }

    @Test(
        "store errors are classified by code",
        arguments: [
            (KeyStoreError.Code.invalidName, ControlError.Code.invalidName),
            (.alreadyExists, .alreadyExists),
            (.notFound, .notFound),
            (.conflict, .conflict),
            (.storage, .storeUnavailable),
        ]
    )
    func storeErrors(_ code: KeyStoreError.Code, _ expected: ControlError.Code) {
        #expect(ControlError.classifying(KeyStoreError(code, reason: "r")).code == expected)
    }

    @Test(
        "root-key errors are classified by code",
        arguments: [
            (RootKeyError.Code.deleted, ControlError.Code.rootKeyDeleted),
            (.notFound, .rootKeyDeleted),
            (.disabled, .rootKeyDisabled),
            (.unavailable, .rootKeyServiceUnavailable),
            (.authenticationFailed, .rootKeyServiceUnavailable),
            (.insecurePermissions, .permissionDenied),
            (.cryptoFailure, .internalError),
        ]
    )
    func rootKeyErrors(_ code: RootKeyError.Code, _ expected: ControlError.Code) {
        let error = ControlError.classifying(RootKeyError(code, reason: "r"), operation: "rotating")
        #expect(error.code == expected)
        #expect(error.reason.hasPrefix("rotating: "))
    }

    @Test("file-system errors name the file and the cause, never a Foundation dump")
    func fileErrors() {
        let denied = ControlError.classifying(
            CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: "/etc/vc.pem"]),
            operation: "cannot read /etc/vc.pem"
        )
        #expect(denied.code == .permissionDenied)
        #expect(denied.reason == "cannot read /etc/vc.pem: /etc/vc.pem: permission denied")
        #expect(!denied.reason.contains("Domain="))
        #expect(ControlError.classifying(CocoaError(.fileReadNoSuchFile)).code == .notFound)
        #expect(ControlError.classifying(CocoaError(.fileWriteOutOfSpace)).code == .diskFull)
        #expect(ControlError.classifying(POSIXError(.ENOSPC)).code == .diskFull)
        #expect(ControlError.classifying(POSIXError(.EACCES)).code == .permissionDenied)
        #expect(ControlError.classifying(POSIXError(.EEXIST)).code == .alreadyExists)
    }

    @Test("PKI errors are bad requests, except signing failures")
    func pkiErrors() {
        #expect(ControlError.classifying(PKIError(.invalidPEM, reason: "r")).code == .badRequest)
        #expect(ControlError.classifying(PKIError(.invalidCSR, reason: "r")).code == .badRequest)
        #expect(ControlError.classifying(PKIError(.signingFailed, reason: "r")).code == .internalError)
    }

    @Test("a missing data directory is notFound and says how to make one")
    func missingDataDirectory() {
        let layout = DataDirectoryLayout(path: NSTemporaryDirectory() + "keystorm-missing-" + UUID().uuidString)
        let error = #expect(throws: ControlError(.notFound, "")) { try layout.requireExisting() }
        #expect(error?.reason.contains("keystorm serve --data-dir") == true)
    }

    @Test(
        "an unreadable data directory is permission denied, not missing",
        .enabled(if: geteuid() != 0, "root reads every directory")
    )
    func unreadableDataDirectory() async throws {
        let fixture = try await ControlFixture.make()
        chmod(fixture.layout.path, 0)
        defer { chmod(fixture.layout.path, 0o700) }
        let error = #expect(throws: ControlError(.permissionDenied, "")) { try fixture.layout.requireExisting() }
        #expect(error?.reason.contains(fixture.layout.path) == true)
    }
}
