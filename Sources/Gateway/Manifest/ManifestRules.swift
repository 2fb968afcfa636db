import Foundation

/// The forms the canonical model's values take, as `schemas/manifest-1.xsd` states them. Every agency copy is
/// generated from the model and checked against its own format, and those formats take these forms too (the
/// CIQ and border schemas share the types). The XML mapping gets them from the XSD; the CUSCAR mapping checks
/// them here, at the segment that carries the value, so a value no agency copy could carry is refused with an
/// APERAK naming the consignment and segment, rather than failing the routing after the manifest was filed.
///
/// Hand-written because each is one short pattern over ASCII bytes; a regular expression engine per value
/// would cost more than the check.
enum ManifestRules {
    /// UN/LOCODE: `[A-Z]{2}[A-Z2-9]{3}`.
    static func isLOCODE(_ value: String) -> Bool {
        guard value.utf8.count == 5 else { return false }
        for (i, b) in value.utf8.enumerated() where !(isUpper(b) || (i >= 2 && b >= 50 && b <= 57)) { return false }
        return true
    }

    /// ISO 3166 alpha-2: `[A-Z]{2}`.
    static func isCountry(_ value: String) -> Bool {
        value.utf8.count == 2 && value.utf8.allSatisfy(isUpper)
    }

    /// ISO 6346 size-type code: `[0-9A-Z]{4}`.
    static func isSizeType(_ value: String) -> Bool {
        value.utf8.count == 4 && value.utf8.allSatisfy(isUpperOrDigit)
    }

    /// UN/ECE Recommendation 21 package type: `[0-9A-Z]{2}`.
    static func isPackageType(_ value: String) -> Bool {
        value.utf8.count == 2 && value.utf8.allSatisfy(isUpperOrDigit)
    }

    /// IMDG/ADR class or division: `[1-9](\.[1-9])?[A-Z]?`.
    static func isHazardClass(_ value: String) -> Bool {
        var b = Array(value.utf8)[...]
        guard let first = b.popFirst(), first >= 49 && first <= 57 else { return false }
        if b.first == 0x2E {
            b = b.dropFirst()
            guard let division = b.popFirst(), division >= 49 && division <= 57 else { return false }
        }
        if let letter = b.popFirst(), !isUpper(letter) { return false }
        return b.isEmpty
    }

    /// A goods item's sequence number (`ItemSequence`).
    static let itemSequences = 1...99_999
    /// A number of packages (`PackageCount`).
    static let packageCounts = 0...999_999_999
    /// The largest gross weight a copy can state: `WeightValue` allows 13 integer digits.
    static let maxWeightKg = 9_999_999_999_999.0

    /// `kg` when a copy can state it: finite, not negative and at most `maxWeightKg`; nil otherwise. (The XML
    /// writers keep at most 20 decimals, as `WeightValue` allows.)
    static func weightKg(_ kg: Double) -> Double? {
        kg.isFinite && kg >= 0 && kg <= maxWeightKg ? kg : nil
    }

    /// The instants every copy can state: UTC years 0001 to 9999 (`xs:dateTime` has no year 0, and every format
    /// writes four digits). `9999-12-31T23:59:59-14:00` is valid XML but falls in year 10000 once in UTC.
    static let instants = Date(timeIntervalSince1970: -62_135_596_800) ..< Date(timeIntervalSince1970: 253_402_300_800)

    private static func isUpper(_ b: UInt8) -> Bool { b >= 65 && b <= 90 }
    private static func isUpperOrDigit(_ b: UInt8) -> Bool { isUpper(b) || (b >= 48 && b <= 57) }
}
