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

/// Where the key store is: the `store` setting (`--store`, `KEYSTORM_STORE`, file key `store`).
///
/// `sqlite` (the default) is `keystorm.sqlite` in the data directory, for one node. A
/// `postgres://USER@HOST:PORT/DATABASE` URL is a PostgreSQL database that several nodes share;
/// its password comes from the URL or, better, from the file `store.password-file` names
/// (`KEYSTORM_STORE_PASSWORD_FILE`), so that it is not on a command line.
enum StoreLocation {
    case sqlite
    case postgres(PostgresStoreConfiguration)

    /// Reads the `store` and `store.password-file` settings.
    ///
    /// - Throws: ``SettingsError`` for an unknown store, a bad URL or an unreadable password file
    ///   (the message never shows the password).
    init(_ settings: SettingsResolver, flag: String?) throws {
        let value = settings.string("store", flag: flag, default: "sqlite")
        if value == "sqlite" {
            self = .sqlite
            return
        }
        guard value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") else {
            throw SettingsError(
                "store '\(value)' is not available: use sqlite or a postgres://USER@HOST:PORT/DATABASE URL"
            )
        }
        var configuration: PostgresStoreConfiguration
        do {
            configuration = try PostgresStoreConfiguration(url: value)
        } catch let error as KeyStoreError {
            throw SettingsError("'store': \(error.reason)")
        }
        if let file = settings.string("store.password-file", flag: nil) {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw SettingsError("'store.password-file': cannot read \(file)")
            }
            configuration.password = text.trimmingCharacters(in: .newlines)
        }
        self = .postgres(configuration)
    }

    /// How the store is named in logs and status output (never with its password).
    var description: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres(let configuration): configuration.redactedURL
        }
    }
}
