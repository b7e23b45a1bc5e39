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

/// The settings of the IBM Key Protect root-key provider (`root-keys = "keyprotect"`).
///
/// | key | meaning | default |
/// | --- | --- | --- |
/// | `keyprotect.url` | the API, e.g. `https://us-south.kms.cloud.ibm.com` (`http://` for the emulator) | required |
/// | `keyprotect.iam-url` | IAM's token URL | `https://iam.cloud.ibm.com/identity/token` |
/// | `keyprotect.instance-id` | the Key Protect instance GUID | required |
/// | `keyprotect.api-key-file` | a file holding the service ID's API key | — |
/// | `keyprotect.key-ring` | the key ring of the tenants' root keys | none |
/// | `keyprotect.ca` | a PEM CA bundle to trust instead of the system's | system trust |
/// | `keyprotect.max-connections` | keep-alive connections to Key Protect | 64 |
/// | `keyprotect.retry-budget` | how long one call may spend retrying 429s, 5xx and connection failures | 30s |
/// | `keyprotect.request-timeout` | how long one HTTP request may take | 10s |
/// | `keyprotect.outage-threshold` | requests in a row that get no answer (5xx, none) before calls fail at once | 10 |
/// | `keyprotect.outage-max-cooldown` | the longest calls then fail at once before one probes | 10s |
///
/// The API key comes from `KEYSTORM_KEYPROTECT_API_KEY` or else the file `keyprotect.api-key-file`
/// names (whitespace around it trimmed); never from a flag or the configuration file itself, and
/// it is never logged. Each setting can also be given as `KEYSTORM_KEYPROTECT_<KEY>`
/// (`keyprotect.instance-id` → `KEYSTORM_KEYPROTECT_INSTANCE_ID`). The unwrap batcher in front of
/// the provider takes the `unwrap.*` settings (``RootKeyServiceFactory/accessConfiguration(_:defaults:)``).
struct KeyProtectSettings {
    /// The environment variable that holds the API key itself.
    static let apiKeyVariable = "KEYSTORM_KEYPROTECT_API_KEY"

    var configuration: KeyProtectRootKeyService.Configuration

    init(_ settings: SettingsResolver) throws {
        guard let url = Self.nonEmpty(settings.string("keyprotect.url", flag: nil)) else {
            throw SettingsError(
                "root-keys 'keyprotect' needs 'keyprotect.url' (e.g. https://us-south.kms.cloud.ibm.com)"
            )
        }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
            throw SettingsError("'keyprotect.url' must be an http(s) URL, not '\(url)'")
        }
        guard let instanceID = Self.nonEmpty(settings.string("keyprotect.instance-id", flag: nil)) else {
            throw SettingsError("root-keys 'keyprotect' needs 'keyprotect.instance-id' (the instance GUID)")
        }
        let iamURL = settings.string(
            "keyprotect.iam-url",
            flag: nil,
            default: KeyProtectRootKeyService.Configuration.defaultIAMEndpoint
        )
        guard iamURL.hasPrefix("https://") || iamURL.hasPrefix("http://") else {
            throw SettingsError("'keyprotect.iam-url' must be an http(s) URL, not '\(iamURL)'")
        }
        if settings.file.values["keyprotect.api-key"] != nil {
            throw SettingsError(
                "the configuration file must not hold the Key Protect API key: use 'keyprotect.api-key-file' or \(Self.apiKeyVariable)"
            )
        }
        let apiKey = try Self.apiKey(settings)
        let caPath = Self.nonEmpty(settings.string("keyprotect.ca", flag: nil))
        if let caPath, !FileManager.default.isReadableFile(atPath: caPath) {
            throw SettingsError("'keyprotect.ca' names \(caPath), which cannot be read")
        }

        var configuration = KeyProtectRootKeyService.Configuration(
            endpoint: url,
            iamEndpoint: iamURL,
            instanceID: instanceID,
            apiKey: apiKey,
            keyRing: Self.nonEmpty(settings.string("keyprotect.key-ring", flag: nil)),
            caBundlePath: caPath
        )
        let maxConnections = try settings.integer("keyprotect.max-connections", flag: nil, default: 64)
        guard maxConnections >= 1 else {
            throw SettingsError("'keyprotect.max-connections' must be at least 1, not \(maxConnections)")
        }
        configuration.maxConnectionsPerHost = maxConnections
        if let budget = try RootKeyServiceFactory.duration(settings, "keyprotect.retry-budget") {
            configuration.retry.budget = budget
        }
        if let timeout = try RootKeyServiceFactory.duration(settings, "keyprotect.request-timeout") {
            guard timeout > .zero else { throw SettingsError("'keyprotect.request-timeout' must be longer than 0") }
            configuration.requestTimeout = timeout
        }
        let outageThreshold = try settings.integer("keyprotect.outage-threshold", flag: nil, default: 10)
        guard outageThreshold >= 1 else {
            throw SettingsError("'keyprotect.outage-threshold' must be at least 1, not \(outageThreshold)")
        }
        configuration.outageThreshold = outageThreshold
        if let cooldown = try RootKeyServiceFactory.duration(settings, "keyprotect.outage-max-cooldown") {
            // Also the longest Keystorm takes to notice that Key Protect is back: more than an hour
            // of failed unwraps after an outage ended is never what an operator wants.
            guard cooldown >= .seconds(1), cooldown <= .seconds(3_600) else {
                throw SettingsError("'keyprotect.outage-max-cooldown' must be from 1s to 1h, not \(cooldown)")
            }
            configuration.outageMaxCooldown = cooldown
        }
        self.configuration = configuration
    }

    /// `KEYSTORM_KEYPROTECT_API_KEY`, else the contents of `keyprotect.api-key-file`.
    private static func apiKey(_ settings: SettingsResolver) throws -> String {
        if let key = Self.nonEmpty(settings.environment[Self.apiKeyVariable]) { return key }
        guard let path = Self.nonEmpty(settings.string("keyprotect.api-key-file", flag: nil)) else {
            throw SettingsError(
                "root-keys 'keyprotect' needs an API key: set \(Self.apiKeyVariable) or 'keyprotect.api-key-file'"
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SettingsError("'keyprotect.api-key-file' names \(path), which cannot be read")
        }
        guard
            let key = Self.nonEmpty(
                String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            )
        else {
            throw SettingsError("'keyprotect.api-key-file' \(path) is empty")
        }
        return key
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return text
    }
}
