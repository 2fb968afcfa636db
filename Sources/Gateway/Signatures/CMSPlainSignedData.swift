/// The one-signer CMS SignedData layout that OpenSSL, Bouncy Castle and every mainstream signer write,
/// read strictly, so the verifier can check the signature without `d2i_CMS_ContentInfo` and `CMS_verify`.
///
/// Why: with the certificates and chains cached, OpenSSL 3.0 spends more time decoding the SignedData
/// (its template decoder) and setting up `CMS_verify` than on the RSA-2048 operation itself; issue 4
/// asks for half the raw verify rate. What remains to do for such a file is what RFC 5652 §5.4 says:
/// digest the content, compare it with the `messageDigest` attribute, verify the signature over the
/// DER of the signed attributes with the signer's key. Those three steps still run in OpenSSL
/// (OpenSSLCMS.swift); this file only finds the bytes they run on.
///
/// The rule that keeps this from being a second parser with opinions of its own: it recognises a
/// narrow subset and answers nil for everything else, and the verifier then asks OpenSSL, which also
/// decides every file whose digest or signature does not check out here. So it can only ever make
/// an accepting verdict faster, and only for input on which OpenSSL's verdict is the same:
/// - DER throughout (definite, shortest lengths), nothing after the ContentInfo;
/// - SignedData version 1, one digest algorithm, eContentType id-data, eContent absent (detached) or
///   one primitive OCTET STRING (enveloping), certificates optional, no CRLs;
/// - exactly one SignerInfo, version 1, issuerAndSerialNumber, SHA-256/384/512 with parameters absent
///   or NULL, and the same digest in `digestAlgorithms`;
/// - signed attributes present, each of contentType (= id-data), messageDigest, signingTime,
///   smimeCapabilities at most once with exactly one value, contentType and messageDigest required;
///   anything else (ESS signing-certificate attributes, which OpenSSL checks, countersignatures,
///   unsigned attributes) gives nil. OpenSSL keeps the received attribute order when it re-encodes
///   them for verification (CMS_Attributes_Verify is SET_ORDER), so with shortest lengths the bytes
///   verified here are the bytes OpenSSL verifies;
/// - signature algorithm rsaEncryption or shaNWithRSAEncryption (PKCS #1 v1.5), or ecdsa-with-SHAN,
///   with N the digest's; RSA-PSS and anything else go to OpenSSL.
struct CMSPlainSignedData {
    /// The DER of each carried certificate, in order.
    var certificates: [[UInt8]]
    /// The enveloped content's range in the DER (enveloping only; nil when detached).
    var content: Range<Int>?
    /// The signer's issuer Name and serial INTEGER, as whole TLVs.
    var issuer: ArraySlice<UInt8>
    var serial: ArraySlice<UInt8>
    /// Digest: "SHA256", "SHA384" or "SHA512" (OpenSSL's names), and its OID contents.
    var digest: String
    var digestOID: [UInt8]
    /// Signature algorithm OID contents, one of `signatureAlgorithms`' keys, and the key type it needs
    /// ("RSA" or "EC", as OpenSSL names key types).
    var signatureOID: [UInt8]
    var keyType: String
    /// The signed attributes re-tagged as the SET OF the signature covers (RFC 5652 §5.4).
    var signedAttributes: [UInt8]
    /// The messageDigest attribute's value.
    var messageDigest: ArraySlice<UInt8>
    /// The signature value.
    var signature: ArraySlice<UInt8>

    // OID contents (without tag and length).
    private static let signedDataOID: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02]
    private static let dataOID: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01]
    private static let contentTypeAttribute: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x03]
    private static let messageDigestAttribute: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x04]
    private static let signingTimeAttribute: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x05]
    private static let smimeCapabilitiesAttribute: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x0F]

    /// Digest OIDs and OpenSSL's names for them.
    static let digests: [[UInt8]: String] = [
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]: "SHA256",
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02]: "SHA384",
        [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03]: "SHA512",
    ]

    /// Signature algorithm OIDs: the key type they need and the digest they name (nil: the SignerInfo's).
    static let signatureAlgorithms: [[UInt8]: (key: String, digest: String?)] = [
        [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]: ("RSA", nil),
        [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B]: ("RSA", "SHA256"),
        [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0C]: ("RSA", "SHA384"),
        [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0D]: ("RSA", "SHA512"),
        [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]: ("EC", "SHA256"),
        [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03]: ("EC", "SHA384"),
        [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x04]: ("EC", "SHA512"),
    ]

    /// Reads `der` (a whole ContentInfo); nil unless it is exactly the layout described above.
    static func parse(_ der: [UInt8]) -> CMSPlainSignedData? {
        let reader = StrictReader(der: der)
        guard let contentInfo = reader.element(at: 0, limit: der.count), contentInfo.tag == 0x30,
              contentInfo.contents.upperBound == der.count,
              let top = reader.children(of: contentInfo), top.count == 2,
              reader.isOID(top[0], signedDataOID), top[1].tag == 0xA0,
              let wrapped = reader.children(of: top[1]), wrapped.count == 1, wrapped[0].tag == 0x30,
              let fields = reader.children(of: wrapped[0]), fields.count == 4 || fields.count == 5
        else { return nil }
        // version 1, digestAlgorithms SET OF one, encapContentInfo, [certificates], signerInfos SET OF one.
        guard reader.isSmallInteger(fields[0], 1),
              fields[1].tag == 0x31, let digestSet = reader.children(of: fields[1]), digestSet.count == 1,
              let digestOID = reader.algorithm(digestSet[0]), let digest = digests[digestOID],
              fields[2].tag == 0x30, let encapsulated = reader.children(of: fields[2]),
              encapsulated.count == 1 || encapsulated.count == 2, reader.isOID(encapsulated[0], dataOID)
        else { return nil }
        var content: Range<Int>?
        if encapsulated.count == 2 {
            guard encapsulated[1].tag == 0xA0, let octets = reader.children(of: encapsulated[1]), octets.count == 1,
                  octets[0].tag == 0x04 else { return nil }
            content = octets[0].contents
        }
        var certificates: [[UInt8]] = []
        if fields.count == 5 {
            guard fields[3].tag == 0xA0, let carried = reader.children(of: fields[3]),
                  carried.allSatisfy({ $0.tag == 0x30 }) else { return nil }
            certificates = carried.map { Array(der[$0.range]) }
        }
        guard let signerSet = fields.last, signerSet.tag == 0x31, let signers = reader.children(of: signerSet),
              signers.count == 1, signers[0].tag == 0x30,
              let signerFields = reader.children(of: signers[0]), signerFields.count == 6
        else { return nil }
        // SignerInfo: version 1, issuerAndSerialNumber, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature.
        guard reader.isSmallInteger(signerFields[0], 1),
              signerFields[1].tag == 0x30, let sid = reader.children(of: signerFields[1]), sid.count == 2,
              sid[0].tag == 0x30, sid[1].tag == 0x02,
              reader.digest(signerFields[2]) == digest,
              signerFields[3].tag == 0xA0,
              let signature = reader.signatureAlgorithm(signerFields[4], digest: digest),
              signerFields[5].tag == 0x04, !signerFields[5].contents.isEmpty,
              let messageDigest = reader.checkedAttributes(signerFields[3])
        else { return nil }
        var signedAttributes = Array(der[signerFields[3].range])
        signedAttributes[0] = 0x31
        return CMSPlainSignedData(
            certificates: certificates, content: content,
            issuer: der[sid[0].range], serial: der[sid[1].range], digest: digest, digestOID: digestOID,
            signatureOID: signature, keyType: signatureAlgorithms[signature]?.key ?? "?",
            signedAttributes: signedAttributes, messageDigest: messageDigest, signature: der[signerFields[5].contents])
    }

    /// The index of the carried certificate the SignerInfo names; nil unless exactly one carried
    /// certificate has that serial number and its issuer Name is byte-for-byte the SignerInfo's.
    ///
    /// OpenSSL picks the first certificate whose serial is equal and whose issuer is equal after its
    /// name canonicalisation; with one certificate of that serial the two picks cannot differ.
    func signerIndex() -> Int? {
        var found: Int?
        for (index, certificate) in certificates.enumerated() {
            guard let (issuer, serial) = Self.issuerAndSerial(certificate), serial.elementsEqual(self.serial) else { continue }
            guard found == nil, issuer.elementsEqual(self.issuer) else { return nil }
            found = index
        }
        return found
    }

    /// A certificate's issuer Name and serial INTEGER TLVs, read from its DER.
    static func issuerAndSerial(_ certificate: [UInt8]) -> (ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        guard let outer = DERReader.element(certificate, at: 0, limit: certificate.count), outer.tag == 0x30,
              let tbs = DERReader.element(certificate, at: outer.contents.lowerBound, limit: outer.contents.upperBound),
              tbs.tag == 0x30
        else { return nil }
        var offset = tbs.contents.lowerBound
        // [0] EXPLICIT version, optional.
        if let first = DERReader.element(certificate, at: offset, limit: tbs.contents.upperBound), first.tag == 0xA0 {
            offset = first.contents.upperBound
        }
        guard let serial = DERReader.element(certificate, at: offset, limit: tbs.contents.upperBound), serial.tag == 0x02,
              let algorithm = DERReader.element(certificate, at: serial.contents.upperBound, limit: tbs.contents.upperBound),
              let issuer = DERReader.element(certificate, at: algorithm.contents.upperBound, limit: tbs.contents.upperBound),
              issuer.tag == 0x30
        else { return nil }
        return (certificate[issuer.range], certificate[serial.range])
    }

    /// DERReader with the checks every element here must pass.
    private struct StrictReader {
        let der: [UInt8]

        func element(at offset: Int, limit: Int) -> DERReader.Element? {
            guard let element = DERReader.element(der, at: offset, limit: limit), element.minimalLength else { return nil }
            return element
        }

        /// Children of a constructed element, all with shortest lengths.
        func children(of parent: DERReader.Element) -> [DERReader.Element]? {
            guard parent.tag & 0x20 != 0 else { return nil }
            var result: [DERReader.Element] = []
            var offset = parent.contents.lowerBound
            while offset < parent.contents.upperBound {
                guard let child = element(at: offset, limit: parent.contents.upperBound) else { return nil }
                result.append(child)
                offset = child.contents.upperBound
            }
            return result
        }

        func isOID(_ element: DERReader.Element, _ oid: [UInt8]) -> Bool {
            element.tag == 0x06 && der[element.contents].elementsEqual(oid)
        }

        func isSmallInteger(_ element: DERReader.Element, _ value: UInt8) -> Bool {
            element.tag == 0x02 && element.contents.count == 1 && der[element.contents.lowerBound] == value
        }

        /// AlgorithmIdentifier { OID, NULL or absent }: the OID contents, or nil.
        func algorithm(_ element: DERReader.Element) -> [UInt8]? {
            guard element.tag == 0x30, let parts = children(of: element), parts.count == 1 || parts.count == 2,
                  parts[0].tag == 0x06 else { return nil }
            if parts.count == 2 && !(parts[1].tag == 0x05 && parts[1].contents.isEmpty) { return nil }
            return Array(der[parts[0].contents])
        }

        func digest(_ element: DERReader.Element) -> String? {
            algorithm(element).flatMap { CMSPlainSignedData.digests[$0] }
        }

        /// The signature algorithm's OID if it is one of the plain ones and agrees with `digest`.
        /// ECDSA identifiers take no parameters (RFC 5758), so a NULL there is not the plain layout.
        func signatureAlgorithm(_ element: DERReader.Element, digest: String) -> [UInt8]? {
            guard let oid = algorithm(element), let known = CMSPlainSignedData.signatureAlgorithms[oid],
                  known.digest == nil || known.digest == digest else { return nil }
            if known.key == "EC", let parts = children(of: element), parts.count != 1 { return nil }
            return oid
        }

        /// Checks the signed attributes against the allowed set; the messageDigest value, or nil.
        func checkedAttributes(_ element: DERReader.Element) -> ArraySlice<UInt8>? {
            guard let attributes = children(of: element), !attributes.isEmpty else { return nil }
            var seen: UInt8 = 0  // one bit per allowed attribute type
            var messageDigest: ArraySlice<UInt8>?
            var contentTypeOK = false
            for attribute in attributes {
                guard attribute.tag == 0x30, let parts = children(of: attribute), parts.count == 2,
                      parts[0].tag == 0x06, parts[1].tag == 0x31,
                      let values = children(of: parts[1]), values.count == 1
                else { return nil }
                let type = der[parts[0].contents]
                let value = values[0]
                let bit: UInt8
                if type.elementsEqual(CMSPlainSignedData.contentTypeAttribute) {
                    guard isOID(value, CMSPlainSignedData.dataOID) else { return nil }
                    contentTypeOK = true
                    bit = 1
                } else if type.elementsEqual(CMSPlainSignedData.messageDigestAttribute) {
                    guard value.tag == 0x04, !value.contents.isEmpty else { return nil }
                    messageDigest = der[value.contents]
                    bit = 2
                } else if type.elementsEqual(CMSPlainSignedData.signingTimeAttribute) {
                    // OpenSSL refuses times shorter than these when it decodes them.
                    guard (value.tag == 0x17 && value.contents.count >= 13) || (value.tag == 0x18 && value.contents.count >= 15)
                    else { return nil }
                    bit = 4
                } else if type.elementsEqual(CMSPlainSignedData.smimeCapabilitiesAttribute) {
                    // Kept as opaque bytes by OpenSSL too, so re-encoded exactly as received.
                    guard value.tag == 0x30 else { return nil }
                    bit = 8
                } else {
                    return nil
                }
                guard seen & bit == 0 else { return nil }
                seen |= bit
            }
            guard contentTypeOK else { return nil }
            return messageDigest
        }
    }
}
