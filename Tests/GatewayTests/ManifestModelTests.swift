import Foundation
import Testing
import TestSupport

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

    @Test("the library's hand-written JSON reads back to the same model and says what JSONEncoder says")
    func libraryJSON() throws {
        var odd = CUSCARMappingTests.realisticManifest
        odd.consignments[0].parties[0].name = "QUOTE \" BACKSLASH \\ NEWLINE \n TAB \t BELL \u{07} 重庆 é"
        odd.transport.crewCount = 21
        odd.consignments[0].goods[0].grossWeightKg = 0.1 + 0.2
        for manifest in [CUSCARMappingTests.notesManifest, CUSCARMappingTests.realisticManifest, odd] {
            let text = LibraryJSON.manifest(manifest)
            #expect(try JSONDecoder.iso.decode(Manifest.self, from: Data(text.utf8)) == manifest, "\(text)")
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let theirs = try JSONSerialization.jsonObject(with: encoder.encode(manifest)) as? NSDictionary
            let ours = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary
            #expect(ours != nil && ours == theirs, "\(text)")
        }
        let decisions = Router.route(odd, rules: [RoutingRule(agency: "CIQ", preset: .inspection), RoutingRule(agency: "BORDER", preset: .border)])
        let text = LibraryJSON.decisions(decisions)
        #expect(try JSONDecoder().decode([RoutingDecision].self, from: Data(text.utf8)) == decisions, "\(text)")
    }

    @Test("a deliver job's hand-written input is the text JobJSON.encode writes, and the ledger's bill lists read back")
    func deliverInputJSON() throws {
        for input in [DeliverInput(kind: "CUSCAR", file: "CUSCAR-CARRIERX-MAN/1-v1.edi", sha256: String(repeating: "ab", count: 32), records: true),
                      DeliverInput(kind: "SIGNATURE", file: "QUOTE \" BACKSLASH \\ 重庆 \u{07}.p7s", sha256: "", records: false)] {
            #expect(input.json == JobJSON.encode(input))
            #expect(JobJSON.decode(DeliverInput.self, input.json) == input)
            #expect(DeliverInput.decode(input.json) == input)
            let output = DeliverOutput(path: "partners/CIQ/pickup/" + input.file, alreadyThere: !input.records)
            #expect(output.json == JobJSON.encode(output))
        }
        // Read by hand or by JSONDecoder, the same: other key orders, spaces, escapes, and what is not a delivery.
        for text in [#"{"file":"a.edi","kind":"CONTRL","records":true,"sha256":"ff"}"#,
                     #"{"kind":"CONTRL","file":"a.edi","records":false,"sha256":"ff"}"#,
                     #"{ "file" : "a.edi", "kind":"CONTRL","records":true,"sha256":"ff"}"#,
                     #"{"file":"a\u0041.edi","kind":"CONTRL","records":true,"sha256":"ff"}"#,
                     #"{"file":"a.edi","kind":"CONTRL","records":true,"sha256":"ff"}x"#,
                     #"{"file":"a.edi","kind":"CONTRL","records":1,"sha256":"ff"}"#,
                     #"{"file":"a.edi","kind":"CONTRL","records":true}"#, #"{"file":"#, "", "null"] {
            #expect(DeliverInput.decode(text) == JobJSON.decode(DeliverInput.self, text), "\(text)")
        }
        #expect(DeliverInput.decode(#"{"file":"a\u0041.edi","kind":"K","records":true,"sha256":""}"#)?.file == "aA.edi")
        // Integers as Swift prints them, at the ends of the range too.
        var random = SplitMix64(state: 5)
        for n in [0, 1, -1, 9, 10, -10, 99, 100, Int.max, Int.min, Int.min + 1] + (0..<1_000).map({ _ in Int(truncatingIfNeeded: random.next()) >> Int(random.next() % 64) }) {
            var out: [UInt8] = [UInt8(ascii: "x")]
            JSONText.appendInt(n, to: &out)
            #expect(out == Array(("x" + String(n)).utf8), "\(n)")
        }
        let bills = ["CRXB1", "A\"B", "重庆/1"]
        #expect(try JSONDecoder().decode([String].self, from: Data(LibraryJSON.strings(bills).utf8)) == bills)
        #expect(LibraryJSON.strings([]) == "[]")
    }
}
