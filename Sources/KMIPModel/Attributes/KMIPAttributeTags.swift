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

public import KMIPCodec

/// The standard attributes: which tags are attributes, and their KMIP 1.x names.
///
/// KMIP 1.4 §3 lists the 1.x attributes by name; KMIP 2.1 §4 lists the 2.x ones by tag.
public enum KMIPAttributeTags {
    /// The 1.x names of the standard attributes (KMIP 1.4 §3), which are also their tag names.
    static let v1Names: [String] = [
        "Unique Identifier", "Name", "Object Type", "Cryptographic Algorithm", "Cryptographic Length",
        "Cryptographic Parameters", "Cryptographic Domain Parameters", "Certificate Type",
        "Certificate Length", "X.509 Certificate Identifier", "X.509 Certificate Subject",
        "X.509 Certificate Issuer", "Certificate Identifier", "Certificate Subject", "Certificate Issuer",
        "Digital Signature Algorithm", "Digest", "Operation Policy Name", "Cryptographic Usage Mask",
        "Lease Time", "Usage Limits", "State", "Initial Date", "Activation Date", "Process Start Date",
        "Protect Stop Date", "Deactivation Date", "Destroy Date", "Compromise Occurrence Date",
        "Compromise Date", "Revocation Reason", "Archive Date", "Object Group", "Fresh", "Link",
        "Application Specific Information", "Contact Information", "Last Change Date", "Custom Attribute",
        "Alternative Name", "Key Value Present", "Key Value Location", "Original Creation Date",
        "Random Number Generator", "PKCS#12 Friendly Name", "Description", "Comment", "Sensitive",
        "Always Sensitive", "Extractable", "Never Extractable",
    ]

    /// Attributes that KMIP 2.x adds (KMIP 2.1 §4).
    static let v2OnlyNames: [String] = [
        "Key Format Type", "NIST Key Type", "Opaque Data Type", "Protection Level", "Protection Period",
        "Protection Storage Mask", "Quantum Safe", "Rotate Automatic", "Rotate Date", "Rotate Generation",
        "Rotate Interval", "Rotate Latest", "Rotate Name", "Rotate Offset", "Short Unique Identifier",
        "Certificate Subject", "Certificate Issuer",
        // Kept as its own attribute for a registered X.509 certificate (BL-M-10-21 asks for it).
        "Certificate Subject CN",
    ]

    /// The KMIP 1.x minor version that added each 1.x attribute newer than KMIP 1.0: KMIP 1.1
    /// §3.8-3.12 and §3.34, KMIP 1.2 §3.36-3.39, KMIP 1.3 §3.40, KMIP 1.4 §3.41-3.47. Every other
    /// name of ``v1Names`` is a KMIP 1.0 attribute.
    static let v1MinorAdded: [String: Int32] = [
        "Certificate Length": 1, "X.509 Certificate Identifier": 1, "X.509 Certificate Subject": 1,
        "X.509 Certificate Issuer": 1, "Digital Signature Algorithm": 1, "Fresh": 1,
        "Alternative Name": 2, "Key Value Present": 2, "Key Value Location": 2, "Original Creation Date": 2,
        "Random Number Generator": 3,
        "PKCS#12 Friendly Name": 4, "Description": 4, "Comment": 4, "Sensitive": 4, "Always Sensitive": 4,
        "Extractable": 4, "Never Extractable": 4,
    ]

    private static let byV1Name: [String: TTLVTag] = {
        var table: [String: TTLVTag] = [:]
        for name in v1Names {
            if let tag = KMIPTags.tag(named: name) { table[name] = tag }
        }
        return table
    }()

    private static let v1NameByTag: [TTLVTag: String] = {
        var table: [TTLVTag: String] = [:]
        for (name, tag) in byV1Name { table[tag] = name }
        return table
    }()

    /// Every standard attribute tag.
    public static let all: Set<TTLVTag> = {
        var tags = Set(byV1Name.values)
        for name in v2OnlyNames {
            if let tag = KMIPTags.tag(named: name) { tags.insert(tag) }
        }
        return tags
    }()

    /// The tag of the standard attribute with this exact 1.x name.
    public static func tag(v1Name: String) -> TTLVTag? { byV1Name[v1Name] }

    /// The 1.x name of a standard attribute.
    public static func v1Name(of tag: TTLVTag) -> String? { v1NameByTag[tag] }

    /// Whether `tag` is a standard attribute.
    public static func isAttribute(_ tag: TTLVTag) -> Bool { all.contains(tag) }

    /// Whether protocol `version` defines the standard attribute `tag`, so that a client of that
    /// version can decode it.
    ///
    /// KMIP 1.x: the attributes of that minor version's §3 (Random Number Generator from 1.3,
    /// Sensitive from 1.4, ...). KMIP 2.x: the attributes of KMIP 2.1 §4 that its tag table lists;
    /// the 1.x-only Certificate Identifier, Certificate Subject, Certificate Issuer, Operation
    /// Policy Name and Custom Attribute are reserved there (KMIP 2.0 §10.1.2).
    public static func isDefined(_ tag: TTLVTag, in version: ProtocolVersion) -> Bool {
        guard version.major < 2 else { return all.contains(tag) && KMIPTags.versions(of: tag).contains(.kmip21) }
        guard let name = v1NameByTag[tag] else { return false }
        return v1MinorAdded[name, default: 0] <= version.minor
    }
}
