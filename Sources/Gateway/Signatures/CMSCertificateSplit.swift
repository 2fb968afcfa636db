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

    /// One TLV: its tag, where its contents lie, and where it ends.
    private struct Element {
        var tag: UInt8
        var start: Int
        var contents: Range<Int>
    }

    /// Reads the TLV at `offset` within `limit`; nil for multi-byte tags, indefinite or oversized lengths.
    private static func element(_ der: [UInt8], at offset: Int, limit: Int) -> Element? {
        guard offset + 2 <= limit else { return nil }
        let tag = der[offset]
        guard tag & 0x1F != 0x1F else { return nil }
        var cursor = offset + 1
        let first = der[cursor]
        cursor += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7F)
            guard count >= 1, count <= 4, cursor + count <= limit else { return nil }
            for _ in 0..<count {
                length = length << 8 | Int(der[cursor])
                cursor += 1
            }
        }
        guard length <= limit - cursor else { return nil }
        return Element(tag: tag, start: offset, contents: cursor..<(cursor + length))
    }

    /// The children of a constructed element, or nil if they do not tile its contents exactly.
    private static func children(_ der: [UInt8], of parent: Range<Int>) -> [Element]? {
        var result: [Element] = []
        var offset = parent.lowerBound
        while offset < parent.upperBound {
            guard let child = element(der, at: offset, limit: parent.upperBound) else { return nil }
            result.append(child)
            offset = child.contents.upperBound
        }
        return result
    }

    /// DER length octets.
    private static func length(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        var bytes: [UInt8] = []
        var value = count
        while value > 0 {
            bytes.insert(UInt8(value & 0xFF), at: 0)
            value >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    /// Splits `der` (a whole ContentInfo); nil when it is not the plain SignedData layout.
    static func split(_ der: [UInt8]) -> Parts? {
        guard let contentInfo = element(der, at: 0, limit: der.count), contentInfo.tag == 0x30,
              contentInfo.contents.upperBound == der.count,
              let top = children(der, of: contentInfo.contents), top.count == 2,
              Array(der[top[0].start..<top[0].contents.upperBound]) == signedDataOID,
              top[1].tag == 0xA0,
              let wrapped = children(der, of: top[1].contents), wrapped.count == 1, wrapped[0].tag == 0x30,
              let fields = children(der, of: wrapped[0].contents)
        else { return nil }
        // certificates [0] IMPLICIT CertificateSet comes after version, digestAlgorithms, encapContentInfo.
        guard let index = fields.firstIndex(where: { $0.tag == 0xA0 }) else {
            return Parts(withoutCertificates: der, certificates: [])
        }
        guard index == 3, let certificates = children(der, of: fields[index].contents),
              certificates.allSatisfy({ $0.tag == 0x30 })
        else { return nil }
        var signedData: [UInt8] = []
        for (position, field) in fields.enumerated() where position != index {
            signedData += der[field.start..<field.contents.upperBound]
        }
        let signedDataTLV = [0x30] + length(signedData.count) + signedData
        let explicitTLV = [0xA0] + length(signedDataTLV.count) + signedDataTLV
        let body = signedDataOID + explicitTLV
        return Parts(withoutCertificates: [0x30] + length(body.count) + body,
                     certificates: certificates.map { Array(der[$0.start..<$0.contents.upperBound]) })
    }
}
