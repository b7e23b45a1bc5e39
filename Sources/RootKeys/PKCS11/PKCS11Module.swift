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

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A PKCS#11 module (an HSM vendor's library, or SoftHSM2's), loaded with `dlopen` and initialised.
///
/// `C_Initialize` runs once per process and module path: each ``load(path:)`` returns a new owner
/// of the one initialised module, and the last owner to go calls `C_Finalize`. The module is
/// initialised with `CKF_OS_LOCKING_OK`, so it may be called from several threads at once; Keystorm
/// still calls each session from one thread at a time (see ``PKCS11SessionPool``).
///
/// The library stays mapped after `C_Finalize`: a module may leave thread-local destructors or
/// `atexit` handlers pointing into its code (SoftHSM2 and its OpenSSL do), and `dlclose` would
/// turn them into a crash at exit. A later ``load(path:)`` maps the same copy again.
final class PKCS11Module: @unchecked Sendable {
    // @unchecked: `functions` points to the module's immutable function table, valid from
    // C_GetFunctionList until the process ends; the module does its own locking (CKF_OS_LOCKING_OK).

    /// The path the module was loaded from.
    let path: String
    /// The module's function table.
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>

    private struct Entry: @unchecked Sendable {
        var functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
        var owners: Int
        /// SHA-256 of the PIN each slot's user login was made with (see ``login(_:slot:pin:)``).
        var logins: [CK_SLOT_ID: [UInt8]] = [:]
    }

    private struct Registry: @unchecked Sendable {
        var entries: [String: Entry] = [:]
        /// Set by the exit handler: the modules are finalised and no PKCS#11 call may follow.
        var exiting = false
        var exitHandlerInstalled = false
    }

    /// Initialised modules by path, with their number of owners. Held while initialising,
    /// closing sessions and finalising, so a `C_Finalize` never overlaps the next `C_Initialize`
    /// of the same module, nor the exit handler.
    private static let loaded = Mutex<Registry>(Registry())

    /// The module at `path`, loaded and initialised on first use.
    ///
    /// Blocks while the module initialises (SoftHSM2 reads `SOFTHSM2_CONF` and its token
    /// directory then): call it off the cooperative pool.
    ///
    /// - Throws: ``RootKeyError/unavailable`` when the library does not load, has no
    ///   `C_GetFunctionList`, or refuses `C_Initialize`.
    static func load(path: String) throws -> PKCS11Module {
        let functions = try Self.loaded.withLock { registry in
            guard !registry.exiting else {
                throw RootKeyError(.unavailable, reason: "the process is exiting; PKCS#11 modules are finalised")
            }
            if var entry = registry.entries[path] {
                entry.owners += 1
                registry.entries[path] = entry
                return entry.functions
            }
            let functions = try Self.initialize(path: path)
            registry.entries[path] = Entry(functions: functions, owners: 1)
            if !registry.exitHandlerInstalled {
                // Registered after the module's own exit-time destructors, so it runs before them.
                registry.exitHandlerInstalled = true
                atexit { PKCS11Module.finalizeAllAtExit() }
            }
            return functions
        }
        return PKCS11Module(path: path, functions: functions)
    }

    private init(path: String, functions: UnsafeMutablePointer<CK_FUNCTION_LIST>) {
        self.path = path
        self.functions = functions
    }

    deinit {
        let path = self.path
        Self.loaded.withLock { registry in
            guard !registry.exiting, var entry = registry.entries[path] else { return }
            entry.owners -= 1
            if entry.owners > 0 {
                registry.entries[path] = entry
            } else {
                registry.entries[path] = nil
                _ = entry.functions.pointee.C_Finalize?(nil)
            }
        }
    }

    /// Closes a session unless the process is exiting (then `C_Finalize` has closed it).
    func closeSession(_ handle: CK_SESSION_HANDLE) {
        Self.loaded.withLock { registry in
            guard !registry.exiting else { return }
            _ = self.functions.pointee.C_CloseSession?(handle)
        }
    }

    /// Finalises every module before the modules' own exit-time destructors run (SoftHSM2's tear
    /// down its state then), so that a service released on another thread while the process
    /// exits never calls into a module being destroyed.
    private static func finalizeAllAtExit() {
        Self.loaded.withLock { registry in
            registry.exiting = true
            for entry in registry.entries.values { _ = entry.functions.pointee.C_Finalize?(nil) }
            registry.entries = [:]
        }
    }

    private static func initialize(path: String) throws -> UnsafeMutablePointer<CK_FUNCTION_LIST> {
        guard let library = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw RootKeyError(.unavailable, reason: "cannot load the PKCS#11 module \(path): \(reason)")
        }
        guard let symbol = dlsym(library, "C_GetFunctionList") else {
            throw RootKeyError(.unavailable, reason: "\(path) is not a PKCS#11 module: it has no C_GetFunctionList")
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        try PKCS11.mappingErrors { try PKCS11.check(getFunctionList(&list), "C_GetFunctionList") }
        guard let list, let initialize = list.pointee.C_Initialize else {
            throw RootKeyError(.unavailable, reason: "\(path) returned no PKCS#11 function list")
        }
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CK_FLAGS(CKF_OS_LOCKING_OK)
        try PKCS11.mappingErrors { try PKCS11.check(initialize(&arguments), "C_Initialize") }
        return list
    }

    /// Logs the user in on `slot` through `session`.
    ///
    /// PKCS#11 keeps one login state per token and application: once any session is logged in,
    /// `C_Login` answers `CKR_USER_ALREADY_LOGGED_IN` whatever the PIN. So the first login's PIN
    /// digest is remembered for the module's lifetime, and a later login (another service in this
    /// process) with a different PIN is refused instead of riding on the first one.
    ///
    /// - Throws: ``PKCS11Error`` from `C_Login`; ``RootKeyError/unauthorized`` for a PIN that
    ///   differs from the one the token is logged in with.
    func login(_ session: PKCS11Session, slot: CK_SLOT_ID, pin: SecretBytes) throws {
        let digest = try Digest.sha256(of: pin)
        try Self.loaded.withLock { registry in
            if let known = registry.entries[self.path]?.logins[slot], known != digest {
                throw RootKeyError(
                    .unauthorized,
                    reason: "the token is logged in by another service in this process with a different PIN"
                )
            }
            try session.login(pin: pin)
            registry.entries[self.path]?.logins[slot] = digest
        }
    }

    /// The slot whose token has the label `tokenLabel` (compared after trimming the padding).
    ///
    /// - Throws: ``RootKeyError/unavailable`` when no present token has that label.
    func slot(tokenLabel: String) throws -> CK_SLOT_ID {
        let f = self.functions.pointee
        var count: CK_ULONG = 0
        try PKCS11.check(f.C_GetSlotList!(CK_BBOOL(1), nil, &count), "C_GetSlotList")
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        try PKCS11.check(f.C_GetSlotList!(CK_BBOOL(1), &slots, &count), "C_GetSlotList")
        var labels: [String] = []
        for slot in slots.prefix(Int(count)) {
            var info = CK_TOKEN_INFO()
            guard f.C_GetTokenInfo!(slot, &info) == CKR_OK else { continue }
            let label = withUnsafeBytes(of: info.label) { bytes in
                String(decoding: bytes, as: UTF8.self)
            }.trimmingPadding()
            if label == tokenLabel { return slot }
            labels.append(label)
        }
        let present = labels.isEmpty ? "none" : labels.map { "'\($0)'" }.joined(separator: ", ")
        throw RootKeyError(
            .unavailable,
            reason: "no token labelled '\(tokenLabel)' in the PKCS#11 module \(self.path) (tokens present: \(present))"
        )
    }
}

extension String {
    /// Without the trailing spaces and NULs that pad PKCS#11's fixed-width text fields.
    fileprivate func trimmingPadding() -> String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\0" { text = text.dropLast() }
        return String(text)
    }
}
