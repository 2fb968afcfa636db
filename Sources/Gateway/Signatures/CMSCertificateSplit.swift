/// Separates the certificate set from a DER CMS SignedData, so certificates can be decoded once and reused.
///
/// Why: OpenSSL 3.0 spends about 130 µs decoding one X.509 certificate (its public-key decoder chain),
/// seven times the cost of an RSA-2048 verification. Every `.p7s` from a partner carries the same
/// certificate, so the verifier decodes each distinct certificate once (keyed by its exact DER bytes)
/// and hands OpenSSL the SignedData without its `certificates` field plus the already-decoded
/// certificates. Only the unsigned container is re-encoded: the signed attributes, the signature and the
/// signed content are untouched, and the original bytes are what the evidence keeps.
///
/// Anything but the plain layout (definite lengths, one-byte tags, `Certificate` choices only, nothing
/// after the ContentInfo) gives nil, and the caller decodes the original bytes whole instead: this is an
/// optimisation, never a second parser that could accept what OpenSSL would refuse.
enum CMSCertificateSplit {
    /// The SignedData re-encoded without its certificate set, and each certificate's exact DER.
    struct Parts {
        var withoutCertificates: [UInt8]
        var certificates: [[UInt8]]
    }

    /// id-signedData, 1.2.840.113549.1.7.2, as a DER OBJECT IDENTIFIER.
    private static let signedDataOID: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02]

    /// Splits `der` (a whole ContentInfo); nil when it is not the plain SignedData layout.
    static func split(_ der: [UInt8]) -> Parts? {
        guard let contentInfo = DERReader.element(der, at: 0, limit: der.count), contentInfo.tag == 0x30,
              contentInfo.contents.upperBound == der.count,
              let top = DERReader.children(der, of: contentInfo.contents), top.count == 2,
              Array(der[top[0].start..<top[0].contents.upperBound]) == signedDataOID,
              top[1].tag == 0xA0,
              let wrapped = DERReader.children(der, of: top[1].contents), wrapped.count == 1, wrapped[0].tag == 0x30,
              let fields = DERReader.children(der, of: wrapped[0].contents)
        else { return nil }
        // certificates [0] IMPLICIT CertificateSet comes after version, digestAlgorithms, encapContentInfo.
        guard let index = fields.firstIndex(where: { $0.tag == 0xA0 }) else {
            return Parts(withoutCertificates: der, certificates: [])
        }
        guard index == 3, let certificates = DERReader.children(der, of: fields[index].contents),
              certificates.allSatisfy({ $0.tag == 0x30 })
        else { return nil }
        var signedData: [UInt8] = []
        for (position, field) in fields.enumerated() where position != index {
            signedData += der[field.start..<field.contents.upperBound]
        }
        let signedDataTLV = [0x30] + DERReader.length(signedData.count) + signedData
        let explicitTLV = [0xA0] + DERReader.length(signedDataTLV.count) + signedDataTLV
        let body = signedDataOID + explicitTLV
        return Parts(withoutCertificates: [0x30] + DERReader.length(body.count) + body,
                     certificates: certificates.map { Array(der[$0.start..<$0.contents.upperBound]) })
    }
}
