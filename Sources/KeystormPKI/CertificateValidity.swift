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

#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif

/// How long a certificate Keystorm issues is valid.
///
/// Relative validities start slightly in the past (``backdating``, one hour by default) so a host whose clock
/// runs a little behind Keystorm's still accepts a certificate issued a moment ago. An issued certificate never
/// outlives the CA that signs it: its end is clamped to the CA's own.
///
/// ```swift
/// let validity = CertificateValidity.days(730)
/// let window = CertificateValidity(notBeforeUnixSeconds: 1_700_000_000, notAfterUnixSeconds: 1_700_086_400)
/// ```
public struct CertificateValidity: Hashable, Sendable {
    fileprivate enum Base: Hashable, Sendable {
        case relative(lifetime: Duration, backdating: Duration)
        case absolute(notBefore: Int64, notAfter: Int64)
    }

    fileprivate var base: Base

    /// A validity of `lifetime` from now, starting `backdating` before now.
    ///
    /// - Parameters:
    ///   - lifetime: How long the certificate stays valid from the moment it is issued.
    ///   - backdating: How far before the moment of issue `notBefore` lies, to absorb clock skew.
    public init(lifetime: Duration, backdating: Duration = .seconds(3600)) {
        self.base = .relative(lifetime: lifetime, backdating: backdating)
    }

    /// A fixed validity window, in seconds since 1970-01-01T00:00:00Z. Test fixtures use it to make
    /// expired or not-yet-valid certificates.
    ///
    /// - Parameters:
    ///   - notBeforeUnixSeconds: The first second the certificate is valid.
    ///   - notAfterUnixSeconds: The last second the certificate is valid.
    public init(notBeforeUnixSeconds: Int64, notAfterUnixSeconds: Int64) {
        self.base = .absolute(notBefore: notBeforeUnixSeconds, notAfter: notAfterUnixSeconds)
    }

    /// A validity of `days` days from now (backdated by one hour).
    ///
    /// - Parameter days: The number of 24-hour days the certificate stays valid.
    /// - Returns: The validity.
    public static func days(_ days: Int) -> CertificateValidity {
        CertificateValidity(lifetime: .seconds(Int64(days) * 86_400))
    }

    /// Ten years: the default for Keystorm's own CAs.
    public static let authorityDefault = CertificateValidity.days(3650)
    /// Two years: the default for server and client certificates.
    public static let leafDefault = CertificateValidity.days(730)

    /// The concrete window for a certificate issued at `now`, clamped to `limit` (the issuing CA's `notAfter`).
    func window(now: Date = Date(), limit: Date? = nil) throws(PKIError) -> (notBefore: Date, notAfter: Date) {
        var notBefore: Date
        var notAfter: Date
        switch self.base {
        case .relative(let lifetime, let backdating):
            guard lifetime > .zero, backdating >= .zero else {
                throw PKIError(
                    .invalidValidity,
                    reason: "the lifetime must be positive and the backdating not negative"
                )
            }
            notBefore = now.addingTimeInterval(-Self.seconds(backdating))
            notAfter = now.addingTimeInterval(Self.seconds(lifetime))
        case .absolute(let start, let end):
            notBefore = Date(timeIntervalSince1970: Double(start))
            notAfter = Date(timeIntervalSince1970: Double(end))
        }
        if let limit, notAfter > limit { notAfter = limit }
        // Whole seconds: X.509 times carry no fractions, and a round trip must compare equal.
        notBefore = Date(timeIntervalSince1970: notBefore.timeIntervalSince1970.rounded(.down))
        notAfter = Date(timeIntervalSince1970: notAfter.timeIntervalSince1970.rounded(.down))
        guard notAfter > notBefore else {
            throw PKIError(.invalidValidity, reason: "the validity window is empty (or the issuing CA has expired)")
        }
        return (notBefore, notAfter)
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
