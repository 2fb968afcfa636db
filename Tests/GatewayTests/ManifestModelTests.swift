import Testing

@testable import Gateway

@Suite("Canonical manifest model")
struct ManifestModelTests {
    @Test("ISO 6346: good numbers pass, a wrong check digit, category letter or shape fails", arguments: [
        ("MSCU1234566", true), ("TGHU7654320", true), ("CSQU3054383", true),
        ("MSCU1234567", false), ("MSCX1234566", false), ("MSC1234566", false), ("mscu1234566", false), ("MSCU12345A6", false),
    ])
    func iso6346(number: String, valid: Bool) {
        #expect(ISO6346.isValid(number) == valid, "\(number)")
    }

    @Test("codes round-trip: message function, transport mode, party role")
    func codes() {
        for f in ManifestFunction.allCases { #expect(ManifestFunction(code: f.code) == f) }
        for m in TransportMode.allCases { #expect(TransportMode(code: m.code) == m) }
        for r in PartyRole.allCases { #expect(PartyRole(code: r.code) == r) }
        #expect(PartyRole(code: "NI") == .notify && ManifestFunction(code: "7") == nil)
        #expect(TransportMode.sea.isWaterway && TransportMode.inlandWaterway.isWaterway && !TransportMode.road.isWaterway)
    }
}
