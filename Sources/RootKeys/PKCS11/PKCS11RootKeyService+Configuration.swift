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

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension PKCS11RootKeyService {
    /// Which PKCS#11 module and token to use, how to log in, and how many sessions to open.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// The module's shared library, e.g. `/usr/lib/softhsm/libsofthsm2.so` or the HSM vendor's.
        public var modulePath: String
        /// The label of the token that holds the root keys (`softhsm2-util --init-token --label`).
        public var tokenLabel: String
        /// Where the user PIN comes from.
        public var pin: PINSource
        /// The number of sessions, and so of PKCS#11 calls in flight at once (1...256).
        public var sessions: Int

        /// SoftHSM2's module as Debian's `softhsm2` package installs it.
        public static let softHSM2ModulePath = "/usr/lib/softhsm/libsofthsm2.so"

        public init(
            modulePath: String = Self.softHSM2ModulePath,
            tokenLabel: String,
            pin: PINSource = .environment(),
            sessions: Int = 4
        ) {
            self.modulePath = modulePath
            self.tokenLabel = tokenLabel
            self.pin = pin
            self.sessions = sessions
        }

        public var description: String {
            "PKCS#11 module \(self.modulePath), token '\(self.tokenLabel)', PIN \(self.pin), \(self.sessions) sessions"
        }
    }

    /// Where the token's user PIN comes from. Its description never shows the PIN.
    public struct PINSource: Sendable, CustomStringConvertible {
        enum Base: Sendable {
            case environment(String)
            case file(String)
            case value(String)
        }

        let base: Base

        /// The environment variable `name` (by default `KEYSTORM_PKCS11_PIN`).
        public static func environment(_ name: String = "KEYSTORM_PKCS11_PIN") -> PINSource {
            PINSource(base: .environment(name))
        }

        /// The first line of the file at `path`; refused when others than its owner may read it.
        public static func file(_ path: String) -> PINSource { PINSource(base: .file(path)) }

        /// The PIN itself.
        public static func value(_ pin: String) -> PINSource { PINSource(base: .value(pin)) }

        public var description: String {
            switch self.base {
            case .environment(let name): "from $\(name)"
            case .file(let path): "from file \(path)"
            case .value: "<redacted>"
            }
        }

        /// Reads the PIN.
        ///
        /// - Throws: ``RootKeyError/invalidArgument`` when the variable is unset or the PIN empty,
        ///   ``RootKeyError/insecurePermissions`` for a PIN file readable by group or others,
        ///   ``RootKeyError/io`` when the file cannot be read.
        func load() throws -> SecretBytes {
            var bytes: [UInt8]
            switch self.base {
            case .value(let pin):
                bytes = Array(pin.utf8)
            case .environment(let name):
                guard let value = getenv(name) else {
                    throw RootKeyError(.invalidArgument, reason: "the PKCS#11 PIN variable \(name) is not set")
                }
                bytes = Array(String(cString: value).utf8)
            case .file(let path):
                guard let file = try FileSystem.readFile(at: path) else {
                    throw RootKeyError(.io, reason: "the PKCS#11 PIN file \(path) does not exist")
                }
                bytes = file.bytes
                let mode = file.mode
                guard mode & 0o077 == 0 else {
                    SecretBytes.wipe(&bytes)
                    throw RootKeyError(
                        .insecurePermissions,
                        reason: "the PKCS#11 PIN file \(path) has mode \(String(mode & 0o777, radix: 8)); use 0600"
                    )
                }
                if let newline = bytes.firstIndex(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
                    bytes.withUnsafeMutableBytes {
                        SecretBytes.wipe(UnsafeMutableRawBufferPointer(rebasing: $0[newline...]))
                    }
                    bytes.removeSubrange(newline...)
                }
            }
            defer { SecretBytes.wipe(&bytes) }
            guard !bytes.isEmpty else {
                throw RootKeyError(.invalidArgument, reason: "the PKCS#11 PIN (\(self)) is empty")
            }
            return SecretBytes(bytes)
        }
    }
}
