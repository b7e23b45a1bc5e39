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
import RootKeys

/// The settings of the PKCS#11 root-key provider (`root-keys = "pkcs11"`).
///
/// | key | meaning | default |
/// | --- | --- | --- |
/// | `pkcs11.module` | the PKCS#11 module (shared library) of the HSM | `/usr/lib/softhsm/libsofthsm2.so` |
/// | `pkcs11.token-label` | the label of the token that holds the root keys | required |
/// | `pkcs11.pin-file` | a file (mode 0600) whose first line is the user PIN | — |
/// | `pkcs11.sessions` | PKCS#11 sessions, and so calls in flight at once (1...256) | 4 |
///
/// The user PIN comes from `KEYSTORM_PKCS11_PIN` or else the file `pkcs11.pin-file` names; never
/// from a flag or the configuration file itself, and it is never logged. Each setting can also be
/// given as `KEYSTORM_PKCS11_<KEY>` (`pkcs11.token-label` → `KEYSTORM_PKCS11_TOKEN_LABEL`). The
/// unwrap batcher in front of the provider sends at most `pkcs11.sessions` unwraps at once unless
/// `unwrap.max-in-flight` says otherwise, so a boot storm queues in the batcher (with its timeout)
/// rather than behind the sessions.
struct PKCS11Settings {
    /// The environment variable that holds the PIN itself.
    static let pinVariable = "KEYSTORM_PKCS11_PIN"

    var configuration: PKCS11RootKeyService.Configuration

    init(_ settings: SettingsResolver) throws {
        let module =
            Self.nonEmpty(settings.string("pkcs11.module", flag: nil))
            ?? PKCS11RootKeyService.Configuration.softHSM2ModulePath
        guard let tokenLabel = Self.nonEmpty(settings.string("pkcs11.token-label", flag: nil)) else {
            throw SettingsError("root-keys 'pkcs11' needs 'pkcs11.token-label' (the label of the HSM token)")
        }
        guard tokenLabel.utf8.count <= 32 else {
            throw SettingsError("'pkcs11.token-label' is at most 32 bytes (a PKCS#11 token label), not '\(tokenLabel)'")
        }
        if settings.file.values["pkcs11.pin"] != nil {
            throw SettingsError(
                "the configuration file must not hold the PKCS#11 PIN: use 'pkcs11.pin-file' or \(Self.pinVariable)"
            )
        }
        let pin: PKCS11RootKeyService.PINSource
        if let value = settings.environment[Self.pinVariable], !value.isEmpty {
            pin = .value(value)
        } else if let path = Self.nonEmpty(settings.string("pkcs11.pin-file", flag: nil)) {
            pin = .file(path)
        } else {
            throw SettingsError("root-keys 'pkcs11' needs the user PIN: set \(Self.pinVariable) or 'pkcs11.pin-file'")
        }
        let sessions = try settings.integer("pkcs11.sessions", flag: nil, default: 4)
        guard (1...256).contains(sessions) else {
            throw SettingsError("'pkcs11.sessions' must be 1...256, not \(sessions)")
        }
        self.configuration = .init(modulePath: module, tokenLabel: tokenLabel, pin: pin, sessions: sessions)
    }

    /// The cache and batcher defaults for the provider: at most one unwrap per session in flight.
    var accessDefaults: KeyAccess.Configuration {
        var defaults = KeyAccess.Configuration()
        defaults.batcher.maxInFlight = self.configuration.sessions
        return defaults
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return text
    }
}
