/// The few DER tag-length-value reads the CMS shortcuts need (CMSCertificateSplit, CMSPlainSignedData).
///
/// Written by hand because neither shortcut may become a second general ASN.1 parser: both only
/// recognise the one plain layout OpenSSL itself writes and give up (nil) on anything else, after
/// which OpenSSL decodes the original bytes. swift-asn1 would be the library for a real parser; it
/// is not on this machine, and these forty lines are all that is needed.
enum DERReader {
    /// One TLV: its tag, where it starts, where its contents lie, and whether its length octets are
    /// the shortest form (DER) rather than a longer BER form.
    struct Element {
        var tag: UInt8
        var start: Int
        var contents: Range<Int>
        var minimalLength: Bool

        /// The whole TLV's range.
        var range: Range<Int> { start..<contents.upperBound }
    }

    /// Reads the TLV at `offset` within `limit`; nil for multi-byte tags, indefinite or oversized lengths.
    static func element(_ der: [UInt8], at offset: Int, limit: Int) -> Element? {
        guard offset >= 0, offset + 2 <= limit, limit <= der.count else { return nil }
        let tag = der[offset]
        guard tag & 0x1F != 0x1F else { return nil }
        var cursor = offset + 1
        let first = der[cursor]
        cursor += 1
        var length = 0
        var minimal = true
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7F)
            guard count >= 1, count <= 4, cursor + count <= limit else { return nil }
            for _ in 0..<count {
                length = length << 8 | Int(der[cursor])
                cursor += 1
            }
            // DER: the long form only from 128 on, and no leading zero octet.
            minimal = length >= 0x80 && der[offset + 2] != 0
        }
        guard length <= limit - cursor else { return nil }
        return Element(tag: tag, start: offset, contents: cursor..<(cursor + length), minimalLength: minimal)
    }

    /// The children of a constructed element, or nil if they do not tile its contents exactly.
    static func children(_ der: [UInt8], of parent: Range<Int>) -> [Element]? {
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
    static func length(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        var bytes: [UInt8] = []
        var value = count
        while value > 0 {
            bytes.insert(UInt8(value & 0xFF), at: 0)
            value >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }
}
