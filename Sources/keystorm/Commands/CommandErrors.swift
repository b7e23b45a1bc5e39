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

import ArgumentParser
import KeystormControl

/// How the operator commands report failures: one line naming the file, value or operation and
/// the cause, exit code 1. Only bad usage (ArgumentParser's own errors and ``ValidationError``
/// from `validate()`) prints the usage and exits 64.
enum CommandErrors {
    /// Runs a command's body, turning every runtime failure into a one-line ``ControlError``
    /// (which ArgumentParser prints as `Error: <line>` with exit code 1).
    static func presenting<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            throw Self.line(for: error)
        }
    }

    /// The one-line error for `error`, classified by its type and code.
    static func line(for error: any Error) -> ControlError {
        switch error {
        case let error as SettingsError:
            return ControlError(.badRequest, error.description)
        case let error as ValidationError:
            // A runtime check that was written as a validation error: still one line, exit 1.
            return ControlError(.badRequest, error.message)
        default:
            return ControlError.classifying(error)
        }
    }
}

extension DataDirectory {
    /// The control plane over this existing data directory's store and configured root-key service.
    func openControlPlane() async throws -> ControlPlane {
        let (store, rootKeys) = try await self.openExisting()
        return ControlPlane(store: store, rootKeys: rootKeys, directory: self.layout)
    }
}
