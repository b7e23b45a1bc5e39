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
import Dispatch

/// One PKCS#11 session (read-write, serial) on the token, with the thread its calls run on.
///
/// PKCS#11 calls block: an HSM answers over the network or a bus, SoftHSM2 reads and writes its
/// token files. Each session owns a serial `DispatchQueue`, and ``run(_:)`` runs a job's calls
/// there, never on the cooperative pool (house rule 7). A session runs one job at a time, as
/// PKCS#11 requires of a session (one active operation), and ``PKCS11SessionPool`` hands it to one
/// caller at a time. `deinit` closes the session.
final class PKCS11Session: @unchecked Sendable {
    // @unchecked: `handle` is immutable, and every call that uses it runs on `queue`.

    let module: PKCS11Module
    let handle: CK_SESSION_HANDLE
    private let queue: DispatchQueue

    /// Opens a read-write session on `slot`. Blocks: call it off the cooperative pool.
    init(module: PKCS11Module, slot: CK_SLOT_ID, index: Int) throws {
        var handle: CK_SESSION_HANDLE = 0
        let flags = CK_FLAGS(CKF_SERIAL_SESSION) | CK_FLAGS(CKF_RW_SESSION)
        try PKCS11.check(module.functions.pointee.C_OpenSession!(slot, flags, nil, nil, &handle), "C_OpenSession")
        self.module = module
        self.handle = handle
        self.queue = DispatchQueue(label: "keystorm.rootkeys.pkcs11.session-\(index)", qos: .userInitiated)
    }

    deinit {
        self.module.closeSession(self.handle)
    }

    private var f: CK_FUNCTION_LIST { self.module.functions.pointee }

    /// Runs `body` with this session on its own thread and returns its result.
    func run<Result: Sendable>(_ body: @escaping @Sendable (PKCS11Session) throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            self.queue.async {
                continuation.resume(with: Swift.Result { try body(self) })
            }
        }
    }

    /// Logs the user in with `pin`. Logging in one session logs in all the application's
    /// sessions on the token; already being logged in is fine.
    func login(pin: SecretBytes) throws {
        let returnValue = pin.withUnsafeBytes { pin in
            let pointer = UnsafeMutablePointer(mutating: pin.bindMemory(to: UInt8.self).baseAddress)
            return self.f.C_Login!(self.handle, CK_USER_TYPE(CKU_USER), pointer, CK_ULONG(pin.count))
        }
        if returnValue == CK_RV(CKR_USER_ALREADY_LOGGED_IN) { return }
        try PKCS11.check(returnValue, "C_Login")
    }

    /// Whether the session still answers `C_GetSessionInfo`.
    func answers() -> Bool {
        var info = CK_SESSION_INFO()
        return self.f.C_GetSessionInfo!(self.handle, &info) == CK_RV(CKR_OK)
    }

    /// The handles of every object that matches `template`.
    func findObjects(_ template: AttributeTemplate) throws -> [CK_OBJECT_HANDLE] {
        try template.withAttributes { attributes, count in
            try PKCS11.check(self.f.C_FindObjectsInit!(self.handle, attributes, count), "C_FindObjectsInit")
        }
        defer { _ = self.f.C_FindObjectsFinal!(self.handle) }
        var found: [CK_OBJECT_HANDLE] = []
        var batch = [CK_OBJECT_HANDLE](repeating: 0, count: 32)
        while true {
            var count: CK_ULONG = 0
            try PKCS11.check(self.f.C_FindObjects!(self.handle, &batch, CK_ULONG(batch.count), &count), "C_FindObjects")
            if count == 0 { return found }
            found += batch.prefix(Int(count))
        }
    }

    /// The value of one attribute of `object`.
    func attribute(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws -> [UInt8] {
        var attribute = CK_ATTRIBUTE(type: type, pValue: nil, ulValueLen: 0)
        try PKCS11.check(self.f.C_GetAttributeValue!(self.handle, object, &attribute, 1), "C_GetAttributeValue")
        guard attribute.ulValueLen > 0 else { return [] }
        var value = [UInt8](repeating: 0, count: Int(attribute.ulValueLen))
        try value.withUnsafeMutableBytes { buffer in
            attribute.pValue = buffer.baseAddress
            try PKCS11.check(self.f.C_GetAttributeValue!(self.handle, object, &attribute, 1), "C_GetAttributeValue")
        }
        return Array(value.prefix(Int(attribute.ulValueLen)))
    }

    /// Asks the token for an attribute into a `capacity`-byte buffer and reports what it answered,
    /// without throwing: the return value, the length it set (`CK_UNAVAILABLE_INFORMATION` is
    /// `CK_ULONG.max`), and whether any byte of the buffer was written. Used to prove a root key
    /// cannot be read out.
    func attributeReadAttempt(
        _ type: CK_ATTRIBUTE_TYPE,
        of object: CK_OBJECT_HANDLE,
        capacity: Int
    ) -> (returnValue: CK_RV, length: CK_ULONG, bufferWritten: Bool) {
        var buffer = [UInt8](repeating: 0, count: capacity)
        return buffer.withUnsafeMutableBytes { buffer in
            var attribute = CK_ATTRIBUTE(type: type, pValue: buffer.baseAddress, ulValueLen: CK_ULONG(capacity))
            let returnValue = self.f.C_GetAttributeValue!(self.handle, object, &attribute, 1)
            return (returnValue, attribute.ulValueLen, buffer.contains { $0 != 0 })
        }
    }

    /// Generates a secret key inside the token with `mechanism` (`CKM_AES_KEY_GEN`) and `template`.
    func generateKey(mechanism: CK_MECHANISM_TYPE, _ template: AttributeTemplate) throws -> CK_OBJECT_HANDLE {
        var mechanism = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
        var object: CK_OBJECT_HANDLE = 0
        try template.withAttributes { attributes, count in
            try PKCS11.check(
                self.f.C_GenerateKey!(self.handle, &mechanism, attributes, count, &object),
                "C_GenerateKey"
            )
        }
        return object
    }

    /// Creates an object (Keystorm's data objects) from `template`.
    func createObject(_ template: AttributeTemplate) throws -> CK_OBJECT_HANDLE {
        var object: CK_OBJECT_HANDLE = 0
        try template.withAttributes { attributes, count in
            try PKCS11.check(self.f.C_CreateObject!(self.handle, attributes, count, &object), "C_CreateObject")
        }
        return object
    }

    /// Destroys an object; for a token object, for good.
    func destroyObject(_ object: CK_OBJECT_HANDLE) throws {
        try PKCS11.check(self.f.C_DestroyObject!(self.handle, object), "C_DestroyObject")
    }

    /// Encrypts `plaintext` with `CKM_AES_GCM` under `key` inside the token; returns
    /// ciphertext || 16-byte tag.
    func encryptAESGCM(
        key: CK_OBJECT_HANDLE,
        iv: [UInt8],
        aad: [UInt8],
        plaintext: UnsafeRawBufferPointer
    ) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: plaintext.count + Self.gcmTagByteCount)
        var outputLength = CK_ULONG(output.count)
        try Self.withGCMMechanism(iv: iv, aad: aad) { mechanism in
            try PKCS11.check(self.f.C_EncryptInit!(self.handle, mechanism, key), "C_EncryptInit")
            let input = UnsafeMutablePointer(mutating: plaintext.bindMemory(to: UInt8.self).baseAddress)
            try PKCS11.check(
                self.f.C_Encrypt!(self.handle, input, CK_ULONG(plaintext.count), &output, &outputLength),
                "C_Encrypt"
            )
        }
        return Array(output.prefix(Int(outputLength)))
    }

    /// Decrypts ciphertext || tag with `CKM_AES_GCM` under `key` inside the token, into a
    /// ``SecretBytes``. A tag that does not verify throws the module's return value (SoftHSM2:
    /// `CKR_ENCRYPTED_DATA_INVALID`).
    func decryptAESGCM(
        key: CK_OBJECT_HANDLE,
        iv: [UInt8],
        aad: [UInt8],
        ciphertext: UnsafeRawBufferPointer
    ) throws -> SecretBytes {
        // Room for the whole input: a module may want the output buffer as large as its input.
        let scratch = SecretBytes(count: ciphertext.count) { _ in }
        var outputLength = CK_ULONG(ciphertext.count)
        try Self.withGCMMechanism(iv: iv, aad: aad) { mechanism in
            try PKCS11.check(self.f.C_DecryptInit!(self.handle, mechanism, key), "C_DecryptInit")
            let input = UnsafeMutablePointer(mutating: ciphertext.bindMemory(to: UInt8.self).baseAddress)
            try scratch.withUnsafeBytes { output in
                let output = UnsafeMutablePointer(mutating: output.bindMemory(to: UInt8.self).baseAddress)
                try PKCS11.check(
                    self.f.C_Decrypt!(self.handle, input, CK_ULONG(ciphertext.count), output, &outputLength),
                    "C_Decrypt"
                )
            }
        }
        return scratch.withUnsafeBytes { SecretBytes($0.prefix(Int(outputLength))) }
    }

    static let gcmTagByteCount = 16

    private static func withGCMMechanism<Result>(
        iv: [UInt8],
        aad: [UInt8],
        _ body: (UnsafeMutablePointer<CK_MECHANISM>) throws -> Result
    ) throws -> Result {
        var iv = iv
        var aad = aad
        return try iv.withUnsafeMutableBufferPointer { iv in
            try aad.withUnsafeMutableBufferPointer { aad in
                var parameters = CK_GCM_PARAMS()
                parameters.pIv = iv.baseAddress
                parameters.ulIvLen = CK_ULONG(iv.count)
                parameters.ulIvBits = CK_ULONG(iv.count * 8)
                parameters.pAAD = aad.baseAddress
                parameters.ulAADLen = CK_ULONG(aad.count)
                parameters.ulTagBits = CK_ULONG(Self.gcmTagByteCount * 8)
                return try withUnsafeMutablePointer(to: &parameters) { parameters in
                    var mechanism = CK_MECHANISM(
                        mechanism: CK_MECHANISM_TYPE(CKM_AES_GCM),
                        pParameter: UnsafeMutableRawPointer(parameters),
                        ulParameterLen: CK_ULONG(MemoryLayout<CK_GCM_PARAMS>.size)
                    )
                    return try body(&mechanism)
                }
            }
        }
    }
}

/// A PKCS#11 attribute template whose values live as long as the template (freed in `deinit`).
///
/// ```swift
/// let template = AttributeTemplate()
/// template.append(CKA_CLASS, CKO_SECRET_KEY)
/// template.append(CKA_TOKEN, true)
/// template.append(CKA_LABEL, bytes: Array("keystorm/…".utf8))
/// ```
final class AttributeTemplate {
    private var attributes: [CK_ATTRIBUTE] = []
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    init() {}

    deinit {
        for buffer in self.buffers {
            SecretBytes.wipe(buffer)
            buffer.deallocate()
        }
    }

    /// Adds an attribute whose value is `bytes`.
    func append(_ type: some BinaryInteger, bytes: some Collection<UInt8>) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        _ = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<bytes.count]).initializeMemory(
            as: UInt8.self,
            from: bytes
        )
        self.buffers.append(buffer)
        self.attributes.append(
            CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(type), pValue: buffer.baseAddress, ulValueLen: CK_ULONG(bytes.count))
        )
    }

    /// Adds a `CK_BBOOL` attribute.
    func append(_ type: some BinaryInteger, _ value: Bool) {
        self.append(type, bytes: [value ? CK_BBOOL(1) : CK_BBOOL(0)])
    }

    /// Adds a `CK_ULONG` attribute (a class, a key type, a length).
    func append(_ type: some BinaryInteger, _ value: some BinaryInteger) {
        withUnsafeBytes(of: CK_ULONG(value)) { self.append(type, bytes: $0) }
    }

    /// Calls `body` with the attributes and their count, as the `C_` functions take them.
    func withAttributes<Result>(
        _ body: (UnsafeMutablePointer<CK_ATTRIBUTE>, CK_ULONG) throws -> Result
    ) rethrows -> Result {
        try self.attributes.withUnsafeMutableBufferPointer { attributes in
            try body(attributes.baseAddress!, CK_ULONG(attributes.count))
        }
    }
}

@available(*, unavailable)
extension AttributeTemplate: Sendable {}
