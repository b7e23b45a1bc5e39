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

import KMIPCodec
import KMIPModel
import Testing

/// Spot checks of the generated tables against values read from the KMIP specifications.
@Suite("Generated KMIP tables")
struct GeneratedTablesTests {
    @Test("Tags carry their specification numbers")
    func tagNumbers() {
        #expect(TTLVTag.activationDate.rawValue == 0x42_0001)
        #expect(TTLVTag.uniqueBatchItemID.rawValue == 0x42_0093)
        #expect(TTLVTag.requestMessage.rawValue == 0x42_0078)
        #expect(TTLVTag.templateAttribute.rawValue == 0x42_0091)
        #expect(TTLVTag.x509CertificateIdentifier.rawValue == 0x42_00B5)
        #expect(TTLVTag.pkcs12FriendlyName.rawValue == 0x42_00FB)
    }

    @Test("Tag names resolve both ways")
    func tagNames() {
        #expect(KMIPTags.specName(of: .activationDate) == "Activation Date")
        #expect(KMIPTags.xmlName(of: .activationDate) == "ActivationDate")
        #expect(KMIPTags.xmlName(of: .templateAttribute) == "TemplateAttribute")
        #expect(KMIPTags.xmlName(of: .x509CertificateIdentifier) == "X_509CertificateIdentifier")
        #expect(KMIPTags.tag(named: "Activation Date") == .activationDate)
        #expect(KMIPTags.tag(named: "ActivationDate") == .activationDate)
        #expect(KMIPTags.tag(named: "Unique Batch Item ID") == .uniqueBatchItemID)
        #expect(KMIPTags.tag(named: "Activation  Date") == nil)
        #expect(KMIPTags.specName(of: TTLVTag(0x54_0000)) == nil)
    }

    @Test("Tag tables record the versions that list a tag")
    func tagVersions() {
        #expect(KMIPTags.versions(of: .activationDate) == [.kmip11, .kmip14, .kmip21])
        // Template-Attribute was removed in KMIP 2.0 (0x420091 is reserved in the 2.1 table).
        #expect(KMIPTags.versions(of: .templateAttribute) == [.kmip11, .kmip14])
        // Key Value Location is new in KMIP 1.2.
        #expect(KMIPTags.versions(of: .keyValueLocation) == [.kmip14, .kmip21])
        #expect(KMIPTags.versions(of: TTLVTag(0x54_0001)).isEmpty)
    }

    @Test("Enumeration values match the specification")
    func enumerationValues() {
        #expect(ObjectType.symmetricKey.rawValue == 2)
        #expect(Operation.discoverVersions.rawValue == 0x1E)
        #expect(ResultReason.itemNotFound.rawValue == 1)
        #expect(ResultReason.wrongKeyLifecycleState.rawValue == 0x43)
        #expect(ResultReason.valueNames[0x43] == "WrongKeyLifecycleState")
        #expect(CryptographicAlgorithm.des3.rawValue == 2)
        #expect(BatchErrorContinuation.continue.rawValue == 1)
        #expect(ObjectType.enumerationName == "Object Type")
    }

    @Test("Enumeration names are the XML profile names")
    func enumerationNames() {
        #expect(ObjectType.symmetricKey.name == "SymmetricKey")
        #expect(HashingAlgorithm.sha256.name == "SHA_256")
        #expect(KeyFormatType.pkcs1.name == "PKCS_1")
        #expect(CryptographicAlgorithm.des3.name == "DES3")
        #expect(NameType.uninterpretedTextString.name == "UninterpretedTextString")
        #expect(State.preActive.name == "PreActive")
        #expect(ObjectType(name: "SecretData") == .secretData)
        #expect(ObjectType(rawValue: 0x8000_0001).name == "0x80000001")
    }

    @Test("Masks are option sets with named bits")
    func masks() {
        let mask: CryptographicUsageMask = [.encrypt, .decrypt]
        #expect(mask.rawValue == 12)
        #expect(CryptographicUsageMask.bitNames.first { $0.0 == 4 }?.1 == "Encrypt")
        #expect(StorageStatusMask.onLineStorage.rawValue == 1)
    }

    @Test("Tags map to their enumerations")
    func registry() {
        #expect(KMIPEnumerations.type(forTag: .objectType) == ObjectType.self)
        #expect(KMIPEnumerations.type(forTag: .batchErrorContinuationOption) == BatchErrorContinuation.self)
        #expect(KMIPEnumerations.type(forTag: .resultReason) == ResultReason.self)
        #expect(KMIPEnumerations.type(forTag: .activationDate) == nil)
        #expect(KMIPEnumerations.value(named: "SymmetricKey", forTag: .objectType) == 2)
        #expect(KMIPEnumerations.value(named: "Symmetric Key", forTag: .objectType) == 2)
        #expect(KMIPEnumerations.value(named: "0x80000002", forTag: .objectType) == 0x8000_0002)
        #expect(KMIPEnumerations.value(named: "SymmetricKey", forTag: .operation) == nil)
        #expect(KMIPEnumerations.name(of: 0x43, forTag: .resultReason) == "WrongKeyLifecycleState")
        #expect(KMIPEnumerations.value(named: "ActivationDate", forTag: .attributeReference) == 0x42_0001)
        #expect(KMIPEnumerations.name(of: 0x42_0001, forTag: .attributeReference) == "ActivationDate")
        #expect(KMIPEnumerations.maskBit(named: "Decrypt", forTag: .cryptographicUsageMask) == 8)
        #expect(
            KMIPEnumerations.maskBitNames(forTag: .cryptographicUsageMask)?.count
                == CryptographicUsageMask.bitNames.count
        )
        #expect(KMIPEnumerations.maskBitNames(forTag: .objectType) == nil)
    }
}
