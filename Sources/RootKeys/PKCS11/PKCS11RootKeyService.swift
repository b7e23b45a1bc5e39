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

internal import CKeystormPKCS11
import Synchronization

/// Root keys inside a PKCS#11 token: an HSM in production, SoftHSM2 in tests.
///
/// Each version of a root key is an AES-256 secret-key object generated inside the token
/// (`CKM_AES_KEY_GEN`) with `CKA_TOKEN`, `CKA_PRIVATE` and `CKA_SENSITIVE` true and `CKA_EXTRACTABLE`
/// and `CKA_MODIFIABLE` false: it can encrypt and decrypt inside the token and never leaves it.
///
/// - Objects: every version of root key `id` has `CKA_LABEL` `keystorm/<id>` and
///   `CKA_ID` `<id> (UTF-8) || version (u32 big-endian)`. A data object (`CKO_DATA`, private,
///   `CKA_APPLICATION` `keystorm root key`, the same `CKA_LABEL`) holds the label given at creation.
/// - Wrap and unwrap run `CKM_AES_GCM` inside the token under the version's object, in the
///   envelope of ``PKCS11WrapEnvelope`` (65 bytes for a 32-byte key). The plaintext data key exists
///   in Keystorm's memory only as ``SecretBytes``, as with every provider.
/// - Rotate generates the next version's object; older versions stay for unwrapping. Delete
///   destroys every version's object (crypto-shred) and keeps the data object, so the key reads as
///   ``RootKeyState/deleted`` (with current version 0: no version is left) rather than unknown.
/// - State comes from what the token holds: a data object and at least one version object is
///   active, a data object alone is deleted, neither is not found. No disabled state.
/// - Calls go through a ``PKCS11SessionPool``: each runs on its session's own thread. Object
///   handles are cached per version and looked up again when the token no longer knows one (a
///   version destroyed by another process). Create, rotate and delete run one at a time in this
///   process; two processes rotating the same key at once is not guarded against.
public final class PKCS11RootKeyService: RootKeyService {
    /// The configuration it was opened with.
    public let configuration: Configuration
    public var providerName: String { "pkcs11" }

    private let pool: PKCS11SessionPool
    private let handles = Mutex<[VersionKey: CK_OBJECT_HANDLE]>([:])
    /// Serialises create, rotate and delete in this process (held on a session's thread).
    private let changes = Mutex<Void>(())

    private struct VersionKey: Hashable {
        var id: String
        var version: Int
    }

    private init(configuration: Configuration, pool: PKCS11SessionPool) {
        self.configuration = configuration
        self.pool = pool
    }

    /// Loads the module, finds the token by label, opens `configuration.sessions` sessions and
    /// logs in as the user.
    ///
    /// - Throws: ``RootKeyError/unauthorized`` when the token refuses the PIN,
    ///   ``RootKeyError/unavailable`` when the module does not load or no token has the label,
    ///   ``RootKeyError/invalidArgument`` for a missing PIN or a session count out of range,
    ///   ``RootKeyError/insecurePermissions`` and ``RootKeyError/io`` for the PIN file.
    public static func open(_ configuration: Configuration) async throws -> PKCS11RootKeyService {
        guard (1...256).contains(configuration.sessions) else {
            throw RootKeyError(
                .invalidArgument,
                reason: "PKCS#11 sessions must be 1...256, not \(configuration.sessions)"
            )
        }
        let pin = try configuration.pin.load()
        let sessions = try await SerialIOQueue(label: "keystorm.rootkeys.pkcs11.open").run {
            try PKCS11.mappingErrors {
                let module = try PKCS11Module.load(path: configuration.modulePath)
                let slot = try module.slot(tokenLabel: configuration.tokenLabel)
                let sessions = try (0..<configuration.sessions).map {
                    try PKCS11Session(module: module, slot: slot, index: $0)
                }
                do {
                    try module.login(sessions[0], slot: slot, pin: pin)
                } catch let error as PKCS11Error {
                    let mapped = error.rootKeyError
                    throw RootKeyError(
                        mapped.code,
                        reason: "logging in to the PKCS#11 token '\(configuration.tokenLabel)' as user failed: "
                            + "\(error.description)"
                    )
                }
                return sessions
            }
        }
        return PKCS11RootKeyService(configuration: configuration, pool: PKCS11SessionPool(sessions: sessions))
    }

    public func createRootKey(label: String) async throws -> RootKeyHandle {
        guard label.utf8.count <= 1024 else {
            throw RootKeyError(.invalidArgument, reason: "a root-key label is at most 1024 bytes of UTF-8")
        }
        let id = try KeyGenerator.uuidString()
        return try await self.pool.withSession { session in
            try self.changes.withLock { _ in
                let key = try session.generateKey(
                    mechanism: CK_MECHANISM_TYPE(CKM_AES_KEY_GEN),
                    Self.newVersionTemplate(id: id, version: 1)
                )
                do {
                    _ = try session.createObject(Self.newMetadataTemplate(id: id, label: label))
                } catch {
                    try? session.destroyObject(key)
                    throw error
                }
                self.handles.withLock { $0[VersionKey(id: id, version: 1)] = key }
                return RootKeyHandle(keyID: id, version: 1)
            }
        }
    }

    public func wrap(_ plaintext: SecretBytes, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        guard plaintext.count > 0 else {
            throw RootKeyError(.invalidArgument, reason: "cannot wrap an empty key")
        }
        let iv = try KeyGenerator.publicRandomBytes(count: PKCS11WrapEnvelope.ivByteCount)
        return try await self.pool.withSession { session in
            let current = try self.currentVersion(session, id: rootKeyID)
            return try Self.seal(plaintext, session: session, key: current, iv: iv, aad: aad)
        }
    }

    /// Unwraps a ciphertext made by any version of `rootKeyID`. Never re-wraps on the way
    /// (`rewrapped` is nil); use ``rewrap(_:rootKeyID:aad:)``.
    ///
    /// - Throws: ``RootKeyError/notFound``, ``RootKeyError/deleted``;
    ///   ``RootKeyError/authenticationFailed`` for a wrong AAD, another root key or modified bytes;
    ///   ``RootKeyError/invalidCiphertext`` for a malformed ciphertext, one whose version differs
    ///   from `wrapped.rootKeyVersion`, or a version the key does not have;
    ///   ``RootKeyError/unavailable`` when the token cannot answer.
    public func unwrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> UnwrapResult {
        let parsed = try Self.parse(wrapped)
        return try await self.pool.withSession { session in
            UnwrapResult(
                plaintext: try self.open(wrapped.ciphertext, parsed, session: session, id: rootKeyID, aad: aad)
            )
        }
    }

    /// Returns `wrapped` unchanged when it already uses the current version (after checking that
    /// it unwraps); otherwise unwraps it and wraps it again under the current version.
    public func rewrap(_ wrapped: WrappedKey, rootKeyID: String, aad: [UInt8]) async throws -> WrappedKey {
        let parsed = try Self.parse(wrapped)
        let iv = try KeyGenerator.publicRandomBytes(count: PKCS11WrapEnvelope.ivByteCount)
        return try await self.pool.withSession { session in
            let current = try self.currentVersion(session, id: rootKeyID)
            let plaintext = try self.open(wrapped.ciphertext, parsed, session: session, id: rootKeyID, aad: aad)
            if parsed.version == current.version { return wrapped }
            return try Self.seal(plaintext, session: session, key: current, iv: iv, aad: aad)
        }
    }

    public func rotate(rootKeyID: String) async throws -> RootKeyHandle {
        try await self.pool.withSession { session in
            try self.changes.withLock { _ in
                let current = try self.currentVersion(session, id: rootKeyID)
                let version = current.version + 1
                let key = try session.generateKey(
                    mechanism: CK_MECHANISM_TYPE(CKM_AES_KEY_GEN),
                    Self.newVersionTemplate(id: rootKeyID, version: version)
                )
                self.handles.withLock { $0[VersionKey(id: rootKeyID, version: version)] = key }
                return RootKeyHandle(keyID: rootKeyID, version: version)
            }
        }
    }

    /// Crypto-shreds the key: destroys every version's object in the token. The data object
    /// stays, so the key reads as ``RootKeyState/deleted``. Deleting a deleted key does nothing.
    public func delete(rootKeyID: String) async throws {
        try await self.pool.withSession { session in
            try self.changes.withLock { _ in
                let metadata = try session.findObjects(Self.metadataTemplate(id: rootKeyID))
                let versions = try self.versions(session, id: rootKeyID)
                guard !metadata.isEmpty || !versions.isEmpty else { throw Self.notFound(rootKeyID) }
                self.handles.withLock { handles in
                    for version in versions { handles[VersionKey(id: rootKeyID, version: version.version)] = nil }
                }
                for version in versions { try session.destroyObject(version.handle) }
            }
        }
    }

    /// The id, label, state and current version of one root key, read from the token.
    public func info(rootKeyID: String) async throws -> RootKeyInfo {
        try await self.pool.withSession { session in try self.info(session, id: rootKeyID) }
    }

    /// Every root key Keystorm keeps in the token, deleted ones included, sorted by id.
    public func allRootKeys() async throws -> [RootKeyInfo] {
        try await self.pool.withSession { session in
            let template = AttributeTemplate()
            template.append(CKA_CLASS, CKO_DATA)
            template.append(CKA_APPLICATION, bytes: Self.application)
            let prefix = Array(Self.labelPrefix.utf8)
            let ids = try session.findObjects(template).compactMap { object -> String? in
                let label = try session.attribute(CKA_LABEL, of: object)
                guard label.starts(with: prefix) else { return nil }
                return String(decoding: label.dropFirst(prefix.count), as: UTF8.self)
            }
            return try Set(ids).sorted().map { try self.info(session, id: $0) }
        }
    }
}

// MARK: - Lookups (on a session's thread)

extension PKCS11RootKeyService {
    private typealias Version = (version: Int, handle: CK_OBJECT_HANDLE)

    private static let labelPrefix = "keystorm/"
    private static let application = Array("keystorm root key".utf8)

    private static func objectLabel(id: String) -> [UInt8] { Array((Self.labelPrefix + id).utf8) }

    private static func objectID(id: String, version: Int) -> [UInt8] {
        let version = UInt32(version)
        return Array(id.utf8) + [UInt8(version >> 24), UInt8(version >> 16 & 0xFF), UInt8(version >> 8 & 0xFF)]
            + [UInt8(version & 0xFF)]
    }

    /// The template of a new version's key object.
    private static func newVersionTemplate(id: String, version: Int) -> AttributeTemplate {
        let template = AttributeTemplate()
        template.append(CKA_CLASS, CKO_SECRET_KEY)
        template.append(CKA_KEY_TYPE, CKK_AES)
        template.append(CKA_VALUE_LEN, 32)
        template.append(CKA_TOKEN, true)
        template.append(CKA_PRIVATE, true)
        template.append(CKA_SENSITIVE, true)
        template.append(CKA_EXTRACTABLE, false)
        template.append(CKA_MODIFIABLE, false)
        template.append(CKA_ENCRYPT, true)
        template.append(CKA_DECRYPT, true)
        template.append(CKA_WRAP, false)
        template.append(CKA_UNWRAP, false)
        template.append(CKA_SIGN, false)
        template.append(CKA_VERIFY, false)
        template.append(CKA_DERIVE, false)
        template.append(CKA_LABEL, bytes: Self.objectLabel(id: id))
        template.append(CKA_ID, bytes: Self.objectID(id: id, version: version))
        return template
    }

    /// The template of a root key's data object, holding its label.
    private static func newMetadataTemplate(id: String, label: String) -> AttributeTemplate {
        let template = Self.metadataTemplate(id: id)
        template.append(CKA_TOKEN, true)
        template.append(CKA_PRIVATE, true)
        template.append(CKA_VALUE, bytes: Array(label.utf8))
        return template
    }

    private static func metadataTemplate(id: String) -> AttributeTemplate {
        let template = AttributeTemplate()
        template.append(CKA_CLASS, CKO_DATA)
        template.append(CKA_APPLICATION, bytes: Self.application)
        template.append(CKA_LABEL, bytes: Self.objectLabel(id: id))
        return template
    }

    /// Every version object of `id` that the token holds, by version.
    private func versions(_ session: PKCS11Session, id: String) throws -> [Version] {
        let template = AttributeTemplate()
        template.append(CKA_CLASS, CKO_SECRET_KEY)
        template.append(CKA_LABEL, bytes: Self.objectLabel(id: id))
        let idBytes = Array(id.utf8)
        let versions = try session.findObjects(template).compactMap { object -> Version? in
            let objectID = try session.attribute(CKA_ID, of: object)
            guard objectID.count == idBytes.count + 4, objectID.starts(with: idBytes) else { return nil }
            let version = objectID.suffix(4).reduce(0) { $0 << 8 | Int($1) }
            return (version, object)
        }
        self.handles.withLock { handles in
            for version in versions { handles[VersionKey(id: id, version: version.version)] = version.handle }
        }
        return versions.sorted { $0.version < $1.version }
    }

    /// The highest version: the one new wraps use.
    private func currentVersion(_ session: PKCS11Session, id: String) throws -> Version {
        guard let current = try self.versions(session, id: id).last else {
            throw try self.missing(session, id: id, version: nil)
        }
        return current
    }

    /// The object of one version, from the cache unless `cached` is false.
    private func versionObject(
        _ session: PKCS11Session,
        id: String,
        version: Int,
        cached: Bool
    ) throws -> CK_OBJECT_HANDLE {
        let key = VersionKey(id: id, version: version)
        if cached, let handle = self.handles.withLock({ $0[key] }) { return handle }
        let template = AttributeTemplate()
        template.append(CKA_CLASS, CKO_SECRET_KEY)
        template.append(CKA_ID, bytes: Self.objectID(id: id, version: version))
        guard let handle = try session.findObjects(template).first else {
            throw try self.missing(session, id: id, version: version)
        }
        self.handles.withLock { $0[key] = handle }
        return handle
    }

    /// Why a version (or any version, when `version` is nil) of `id` is not in the token.
    private func missing(_ session: PKCS11Session, id: String, version: Int?) throws -> RootKeyError {
        if try session.findObjects(Self.metadataTemplate(id: id)).isEmpty { return Self.notFound(id) }
        guard let version, !(try self.versions(session, id: id).isEmpty) else {
            return RootKeyError(.deleted, reason: "root key \(id) was deleted; everything wrapped under it is shredded")
        }
        return RootKeyError(.invalidCiphertext, reason: "root key \(id) has no version \(version)")
    }

    private func info(_ session: PKCS11Session, id: String) throws -> RootKeyInfo {
        guard let metadata = try session.findObjects(Self.metadataTemplate(id: id)).first else {
            throw Self.notFound(id)
        }
        let label = String(decoding: try session.attribute(CKA_VALUE, of: metadata), as: UTF8.self)
        let versions = try self.versions(session, id: id)
        return RootKeyInfo(
            keyID: id,
            label: label,
            state: versions.isEmpty ? .deleted : .active,
            currentVersion: versions.last?.version ?? 0
        )
    }

    private static func notFound(_ id: String) -> RootKeyError {
        RootKeyError(.notFound, reason: "no root key \(id) in the PKCS#11 token")
    }
}

// MARK: - Sealing and opening (on a session's thread)

extension PKCS11RootKeyService {
    private static func parse(_ wrapped: WrappedKey) throws -> PKCS11WrapEnvelope.Parsed {
        let parsed = try PKCS11WrapEnvelope.parse(wrapped.ciphertext)
        guard parsed.version == wrapped.rootKeyVersion else {
            throw RootKeyError(
                .invalidCiphertext,
                reason:
                    "the ciphertext names root-key version \(parsed.version), the wrapped key says \(wrapped.rootKeyVersion)"
            )
        }
        return parsed
    }

    private static func seal(
        _ plaintext: SecretBytes,
        session: PKCS11Session,
        key: Version,
        iv: [UInt8],
        aad: [UInt8]
    ) throws -> WrappedKey {
        let header = PKCS11WrapEnvelope.header(version: key.version)
        let sealed = try plaintext.withUnsafeBytes { plaintext in
            try session.encryptAESGCM(
                key: key.handle,
                iv: iv,
                aad: PKCS11WrapEnvelope.tokenAAD(header: header, aad: aad),
                plaintext: plaintext
            )
        }
        return WrappedKey(ciphertext: header + iv + sealed, rootKeyVersion: key.version)
    }

    private func open(
        _ ciphertext: [UInt8],
        _ parsed: PKCS11WrapEnvelope.Parsed,
        session: PKCS11Session,
        id: String,
        aad: [UInt8]
    ) throws -> SecretBytes {
        let tokenAAD = PKCS11WrapEnvelope.tokenAAD(header: parsed.header, aad: aad)
        func decrypt(cached: Bool) throws -> SecretBytes {
            let key = try self.versionObject(session, id: id, version: parsed.version, cached: cached)
            return try ciphertext.withUnsafeBytes { ciphertext in
                try session.decryptAESGCM(
                    key: key,
                    iv: parsed.iv,
                    aad: tokenAAD,
                    ciphertext: UnsafeRawBufferPointer(rebasing: ciphertext[parsed.payloadOffset...])
                )
            }
        }
        do {
            do {
                return try decrypt(cached: true)
            } catch let error as PKCS11Error where Self.staleHandle.contains(error.returnValue) {
                // Destroyed or replaced by another process: look the version up again.
                self.handles.withLock { $0[VersionKey(id: id, version: parsed.version)] = nil }
                return try decrypt(cached: false)
            }
        } catch let error as PKCS11Error where Self.isTagMismatch(error, session: session) {
            throw RootKeyError(
                .authenticationFailed,
                reason: "the wrapped key does not authenticate under root key \(id) version \(parsed.version) "
                    + "(wrong AAD, another root key, or modified bytes; \(error.description))"
            )
        }
    }

    private static let staleHandle: Set<CK_RV> = [CK_RV(CKR_KEY_HANDLE_INVALID), CK_RV(CKR_OBJECT_HANDLE_INVALID)]

    /// Whether a failed decryption means the GCM tag did not verify.
    ///
    /// The standard answer is `CKR_ENCRYPTED_DATA_INVALID` (or `…_LEN_RANGE`). SoftHSM2 2.6 answers
    /// `CKR_GENERAL_ERROR` from `C_Decrypt` instead; since `C_DecryptInit` accepted the key and the
    /// parameters, a general failure of `C_Decrypt` on a session that still answers
    /// `C_GetSessionInfo` is read as a failed tag too. A device that is failing fails that check
    /// and stays ``RootKeyError/unavailable``.
    private static func isTagMismatch(_ error: PKCS11Error, session: PKCS11Session) -> Bool {
        switch error.returnValue {
        case CK_RV(CKR_ENCRYPTED_DATA_INVALID), CK_RV(CKR_ENCRYPTED_DATA_LEN_RANGE):
            return true
        case CK_RV(CKR_GENERAL_ERROR), CK_RV(CKR_FUNCTION_FAILED):
            return error.function == "C_Decrypt" && session.answers()
        default:
            return false
        }
    }
}

// MARK: - Inspection (tests)

extension PKCS11RootKeyService {
    /// What the token answers about a root-key version's object, for tests that prove the key
    /// cannot be read out.
    struct ObjectInspection: Sendable {
        /// The return value of `C_GetAttributeValue(CKA_VALUE)` with a 32-byte buffer.
        var valueReadReturnValue: String
        /// Whether the token reported the value's length as unavailable.
        var valueLengthUnavailable: Bool
        /// Whether any byte of the buffer was written.
        var valueBufferWritten: Bool
        var sensitive: Bool
        var extractable: Bool
        var alwaysSensitive: Bool
        var neverExtractable: Bool
        var token: Bool
    }

    func inspectObject(rootKeyID: String, version: Int) async throws -> ObjectInspection {
        try await self.pool.withSession { session in
            let object = try self.versionObject(session, id: rootKeyID, version: version, cached: false)
            let attempt = session.attributeReadAttempt(CK_ATTRIBUTE_TYPE(CKA_VALUE), of: object, capacity: 32)
            func flag(_ type: some BinaryInteger) throws -> Bool {
                try session.attribute(CK_ATTRIBUTE_TYPE(type), of: object) == [1]
            }
            return ObjectInspection(
                valueReadReturnValue: PKCS11.name(of: attempt.returnValue),
                valueLengthUnavailable: attempt.length == CK_ULONG.max,
                valueBufferWritten: attempt.bufferWritten,
                sensitive: try flag(CKA_SENSITIVE),
                extractable: try flag(CKA_EXTRACTABLE),
                alwaysSensitive: try flag(CKA_ALWAYS_SENSITIVE),
                neverExtractable: try flag(CKA_NEVER_EXTRACTABLE),
                token: try flag(CKA_TOKEN)
            )
        }
    }
}
