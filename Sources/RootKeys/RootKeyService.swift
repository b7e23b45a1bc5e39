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

/// A service that holds tenants' root keys and wraps and unwraps data keys under them.
///
/// Providers: Local (a sealed key file), Key Protect (IBM's REST API), PKCS#11 (an HSM). The root
/// key never leaves the service (Local keeps it in memory, sealed at rest). Knows nothing of KMIP.
///
/// Every call binds the wrapped key to `aad` (Keystorm uses tenant id + unique identifier), so a
/// ciphertext moved to another object or tenant does not unwrap.
public protocol RootKeyService: Sendable {
    /// `local`, `keyprotect` or `pkcs11`.
    var providerName: String { get }

    /// Creates a new root key for a tenant and returns its id and first version (1).
    func createRootKey(label: String) async throws -> RootKeyHandle
    /// Wraps `plaintext` under the current version of `rootKeyID`.
    func wrap(_ plaintext: SecretBytes, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey
    /// Unwraps a ciphertext made by any version of `rootKeyID`. When the service re-wrapped it
    /// under a newer version on the way (Key Protect does after a rotation), `rewrapped` holds it.
    func unwrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> UnwrapResult
    /// Unwraps and wraps again under the current version, without exposing the plaintext.
    func rewrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey
    /// Makes a new version current; older ciphertexts still unwrap.
    func rotate(rootKeyID: String) async throws -> RootKeyHandle
    /// Destroys the root key: every key wrapped under it becomes unrecoverable (crypto-shred).
    func delete(rootKeyID: String) async throws
    /// The key's id, label, state and current version as the service sees it now.
    func info(rootKeyID: String) async throws -> RootKeyInfo

    /// The most unwraps one ``unwrap(batch:)`` call takes; 1 when the service has no native batch
    /// call (the default). The ``UnwrapBatcher`` groups unwraps only for services above 1.
    var unwrapBatchLimit: Int { get }
    /// Unwraps several ciphertexts in one call (at most ``unwrapBatchLimit``); one result per item,
    /// in order. The default sends the items as concurrent single unwraps.
    func unwrap(batch: [RootKeyBatchItem]) async -> [Result<UnwrapResult, any Error>]
}

/// One ciphertext of an ``RootKeyService/unwrap(batch:)`` call.
public struct RootKeyBatchItem: Sendable {
    public var wrapped: WrappedKey
    public var rootKeyID: String
    public var aad: [UInt8]

    public init(wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) {
        self.wrapped = wrapped
        self.rootKeyID = rootKeyID
        self.aad = aad
    }
}

extension RootKeyService {
    /// No native batching.
    public var unwrapBatchLimit: Int { 1 }

    /// Concurrent single unwraps, results in the items' order.
    public func unwrap(batch: [RootKeyBatchItem]) async -> [Result<UnwrapResult, any Error>] {
        await withTaskGroup(of: (Int, Result<UnwrapResult, any Error>).self) { group in
            for (index, item) in batch.enumerated() {
                group.addTask {
                    do {
                        return (index, .success(try await self.unwrap(item.wrapped, rootKeyID: item.rootKeyID, aad: item.aad)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results = [Result<UnwrapResult, any Error>?](repeating: nil, count: batch.count)
            for await (index, result) in group { results[index] = result }
            return results.map { $0 ?? .failure(CancellationError()) }
        }
    }
}

extension RootKeyService {
    /// The key's state as the service sees it now.
    public func state(rootKeyID: String) async throws -> RootKeyState {
        try await self.info(rootKeyID: rootKeyID).state
    }
}

/// A root key's id and current version.
public struct RootKeyHandle: Hashable, Sendable {
    public var keyID: String
    public var version: Int

    public init(keyID: String, version: Int) {
        self.keyID = keyID
        self.version = version
    }
}

/// A wrapped data key and the root-key version that wrapped it.
public struct WrappedKey: Hashable, Sendable {
    public var ciphertext: [UInt8]
    public var rootKeyVersion: Int

    public init(ciphertext: [UInt8], rootKeyVersion: Int) {
        self.ciphertext = ciphertext
        self.rootKeyVersion = rootKeyVersion
    }
}

/// The result of an unwrap.
public struct UnwrapResult: Sendable {
    public var plaintext: SecretBytes
    /// A ciphertext under the current version, when the service produced one.
    public var rewrapped: WrappedKey?

    public init(plaintext: SecretBytes, rewrapped: WrappedKey? = nil) {
        self.plaintext = plaintext
        self.rewrapped = rewrapped
    }
}

/// The lifecycle state of a root key.
public enum RootKeyState: String, Hashable, Sendable, Codable {
    case active
    /// Temporarily unusable (Key Protect "suspended"/disabled); unwraps fail until re-enabled.
    case disabled
    /// Gone for good: every key wrapped under it is shredded.
    case deleted
}

/// What a root-key service tells about one root key (never its material).
public struct RootKeyInfo: Hashable, Sendable {
    public var keyID: String
    public var label: String
    public var state: RootKeyState
    /// The version new wraps use.
    public var currentVersion: Int

    public init(keyID: String, label: String, state: RootKeyState, currentVersion: Int) {
        self.keyID = keyID
        self.label = label
        self.state = state
        self.currentVersion = currentVersion
    }
}
