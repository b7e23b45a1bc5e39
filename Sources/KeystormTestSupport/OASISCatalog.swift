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

/// The OASIS and OVH KMIP XML test suites Keystorm runs, the cases outside its scope and the
/// known failures: one list for the in-process run and the live run over mutual TLS
/// (KeystormIntegrationTests/OASISLiveTests), so that both run the same cases.
///
/// Paths are relative to ``Fixtures/oasisDirectory``.
public enum OASISCatalog {
    static let cosmian = "Cosmian-kmip/"
    static let ovh = "ovh-kmip-go/kmiptest/testdata/"

    /// The suites: a label and the test-case files.
    public static let suites: [(label: String, files: [String])] = {
        let all = Fixtures.files(under: Fixtures.oasisDirectory, withSuffix: ".xml")
        func select(_ prefix: String, _ pattern: (String) -> Bool) -> [String] {
            all.filter { $0.hasPrefix(prefix) && pattern(fileName($0)) }
        }
        func profile(_ name: String, _ version: String, _ directory: String) -> [String] {
            select(cosmian + directory) { $0.hasPrefix(name + "-") && $0.hasSuffix("-" + version + ".xml") }
        }
        var suites: [(String, [String])] = []
        for name in ["SKLC", "SKFF", "OMOS"] {
            suites.append(("\(name) 1.1", profile(name, "11", "v1.0/XML/")))
        }
        for name in ["SKLC", "SKFF", "OMOS", "AX", "TL", "SASED"] {
            suites.append(("\(name) 1.4", profile(name, "14", "v1.4/XML/")))
        }
        suites.append(("QS 2.0", profile("QS", "20", "v2.0/XML/")))
        suites.append(("QS 2.1", profile("QS", "21", "v2.1/XML/")))
        suites.append(("BL 2.1", profile("BL", "21", "v2.1/XML/")))
        suites.append(("OVH TC 1.1", select(ovh + "v1.1/") { $0.hasPrefix("TC_") && $0.contains("_11_") }))
        suites.append(("OVH TC 1.2", select(ovh + "v1.2/") { $0.hasPrefix("TC_161_12") }))
        return suites
    }()

    /// Cases that need features outside Keystorm's scope, with the reason. Keystorm must refuse
    /// them with Operation Not Supported or Feature Not Supported.
    public static let excluded: [String: String] = {
        let undo = "Batch Error Continuation Option Undo (refused with Feature Not Supported by design, issue #4)"
        return [
            "TC_32_11_Asynchronous_Locate.xml": "asynchronous operations (Operation Pending, Poll, Cancel)",
            "TC_312_11_Register_Create_Get_attributes_Destroy.xml": "templates (Register of a Template object)",
            "TC_314_11_Dual_Client_Test_Case_ID_Placeholder_linked_Locate_Get_Batch.xml":
                "templates (Register of a Template object)",
            "TC_153_11_Default_Object_Group_Member.xml":
                "Object Group Member Default (a member chosen round-robin by server policy)",
            "AX-M-1-14.xml": undo,
            "AX-M-2-14.xml": undo,
            "BL-M-2-21.xml": undo,
        ]
    }()

    /// In-scope cases that still fail, with why. In process each is run and must fail (a pass
    /// means the entry is stale); the failure is reported as a known issue, so it stays visible
    /// and counted.
    public static let knownFailures: [String: String] = [
        "TL-M-3-14.xml":
            "the reference is inconsistent: its Get Attribute List names Sensitive, Extractable, Always Sensitive and Never Extractable, its Get Attributes of all attributes leaves them out",
        "TC_92_11_Existing_Key_Expired_Re_key_with_Same_Life_cycle.xml":
            "needs the clock to pass the Deactivation Date ($NOW+120) between requests; the in-process clock stands still and State is not re-evaluated on read",
        "TC_111_11_Credential_Operation_Policy_Destroy_Date.xml":
            "per-credential Operation Policy (Username/Password credentials): Keystorm authorizes by TLS client certificate and tenant, and ignores request-header credentials",
        "TC_151_11_Locate_a_Fresh_Object_from_the_Default_Group.xml":
            "assumes the server keeps a pool of fresh keys in the default object group (server policy)",
    ]

    /// Suites whose cases build on each other (SASED-M-3 locates the key SASED-M-2 registered,
    /// TL-M-3 the keys of TL-M-2): they share one server (or tenant) and run in order.
    public static let chained: Set<String> = ["SASED 1.4", "TL 1.4"]

    /// The last component of a `/`-separated path.
    public static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
