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

public import RootKeys

extension KeyProtectEmulatorProcess {
    /// The API key the tests' emulators accept.
    public static let testAPIKey = "keystorm-test-api-key"

    /// A Key Protect provider pointed at this emulator, key ring `default`.
    ///
    /// - Parameters:
    ///   - apiKey: The API key the provider exchanges for IAM tokens.
    ///   - retry: The provider's retry policy; short delays by default.
    ///   - configure: Changes anything else of the configuration (e.g. the outage breaker).
    public func rootKeyService(
        apiKey: String = KeyProtectEmulatorProcess.testAPIKey,
        retry: KeyProtectRetryPolicy = KeyProtectRetryPolicy(baseDelay: .milliseconds(50), maxDelay: .seconds(1)),
        configure: (inout KeyProtectRootKeyService.Configuration) -> Void = { _ in }
    ) throws -> KeyProtectRootKeyService {
        var configuration = KeyProtectRootKeyService.Configuration(
            endpoint: self.baseURL,
            iamEndpoint: self.baseURL + "/identity/token",
            instanceID: self.instanceID,
            apiKey: apiKey,
            keyRing: "default"
        )
        configuration.retry = retry
        configure(&configuration)
        return try KeyProtectRootKeyService(configuration: configuration)
    }

    /// Runs `body` with a started emulator and a provider pointed at it; shuts both down afterwards.
    public static func withRootKeyService<T>(
        _ options: Options = Options(apiKeys: [KeyProtectEmulatorProcess.testAPIKey]),
        apiKey: String = KeyProtectEmulatorProcess.testAPIKey,
        retry: KeyProtectRetryPolicy = KeyProtectRetryPolicy(baseDelay: .milliseconds(50), maxDelay: .seconds(1)),
        configure: (inout KeyProtectRootKeyService.Configuration) -> Void = { _ in },
        _ body: (KeyProtectRootKeyService, KeyProtectEmulatorProcess) async throws -> T
    ) async throws -> T {
        try await Self.with(options) { emulator in
            let service = try emulator.rootKeyService(apiKey: apiKey, retry: retry, configure: configure)
            do {
                let result = try await body(service, emulator)
                try await service.shutdown()
                return result
            } catch {
                try? await service.shutdown()
                throw error
            }
        }
    }
}
