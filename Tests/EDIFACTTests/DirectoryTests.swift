import Foundation
import Testing
@testable import EDIFACT

/// The directory tables, the message structure validator and the service segment element checks.
@Suite struct DirectoryTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Every interchange in Fixtures/valid.
    static var validFixtureNames: [String] {
        let dir = fixtures.appendingPathComponent("valid")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".edi") }.sorted()
    }

    /// The fixtures this suite owns: each must be checked against the tables, not skipped as unknown.
    static let ownFixtures: Set<String> = [
        "cuscar-d95b.edi", "cuscar-d96a.edi", "cusres-d96a.edi", "coreor-d95b.edi", "aperak-d96a.edi", "contrl-v3.edi", "contrl-v4.edi",
    ]

    static func fixtureBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("valid").appendingPathComponent(name)))
    }

    static func fixture(_ name: String) throws -> String {
        String(decoding: try fixtureBytes(name), as: UTF8.self)
    }

    /// The fixture's lines edited; line index = position in message + 1 (line 0 is UNA, line 1 UNB, line 2 UNH).
    static func edit(_ name: String, _ change: (inout [String]) -> Void) throws -> String {
        var lines = try fixture(name).components(separatedBy: "\n")
        change(&lines)
        return lines.joined(separator: "\n")
    }

    static func findings(_ text: String) -> [Diagnostic] { DirectoryHarness.run(text).diagnostics }

    /// Expects exactly one finding and checks its code, level and CONTRL positions.
    @discardableResult
    static func expectOne(_ text: String, _ code: SyntaxErrorCode, _ level: DiagnosticLevel, position: Int, element: Int = 0,
                          component: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) -> Diagnostic? {
        let ds = findings(text)
        #expect(ds.count == 1, "expected one finding, got \(ds)", sourceLocation: sourceLocation)
        guard let d = ds.first else { return nil }
        #expect(d.code == code, "\(d)", sourceLocation: sourceLocation)
        #expect(d.level == level, "\(d)", sourceLocation: sourceLocation)
        #expect(d.location.segmentPositionInMessage == position, "\(d)", sourceLocation: sourceLocation)
        #expect(d.location.elementPosition == element, "\(d)", sourceLocation: sourceLocation)
        #expect(d.location.componentPosition == component, "\(d)", sourceLocation: sourceLocation)
        return d
    }

    // MARK: Tables

    @Test func tablesHoldTheMessagesInScope() {
        let ids = Set(Directory.messageIdentifiers.map { $0.joined(separator: ":") })
        #expect(ids == [
            "APERAK:D:95B:UN", "COREOR:D:95B:UN", "CUSCAR:D:95B:UN", "CUSRES:D:95B:UN",
            "APERAK:D:96A:UN", "COREOR:D:96A:UN", "CUSCAR:D:96A:UN", "CUSRES:D:96A:UN",
            "CONTRL:D:3:UN", "CONTRL:4:1:UN",
        ])
    }

    @Test func lookupByUNHIdentifier() throws {
        let m = try #require(Directory.message(identifier: ["CUSCAR", "D", "95B", "UN"]))
        #expect(m.name == "Customs cargo report message")
        #expect(m.directory == "D95B")
        #expect(Directory.message(identifier: ["CUSCAR", "D", "96A", "UN", "LOT10"])?.directory == "D96A")
        #expect(Directory.message(identifier: ["CONTRL", "D", "3", "UN"])?.directory == "SERVICE3")
        #expect(Directory.message(identifier: ["CONTRL", "4", "1", "UN"])?.directory == "SERVICE4")
        #expect(Directory.message(identifier: ["CUSCAR", "D", "95B"]) == nil)
        #expect(Directory.message(identifier: ["INVOIC", "D", "96A", "UN"]) == nil)
        #expect(Directory.message(identifier: ["CUSCAR", "D", "01B", "UN"]) == nil)
        #expect(MessageStructureValidator(identifier: ["CUSCAR", "D", "01B", "UN"], syntaxVersion: 3) == nil)
        #expect(MessageStructureValidator(identifier: ["COREOR", "D", "95B", "UN", "SMDG20"], syntaxVersion: 3) != nil)
    }

    @Test func cuscarD95BStructure() throws {
        let m = try #require(Directory.message(identifier: ["CUSCAR", "D", "95B", "UN"]))
        #expect(m.structure.map(\.tag.description) == ["UNH", "BGM", "DTM", "RFF", "NAD", "FTX", "TDT", "GIS", "EQD", "CNT", "CNI", "AUT", "UNT"])
        let sg4 = m.structure[10]
        #expect(sg4.kind == .group(4) && sg4.requirement == .conditional && sg4.maxRepeats == 9999)
        let sg5 = sg4.children[2]
        #expect(sg5.kind == .group(5) && sg5.tag == "RFF")
        let sg10 = try #require(sg5.children.last)
        #expect(sg10.kind == .group(10) && sg10.requirement == .mandatory && sg10.maxRepeats == 9999 && sg10.tag == "GID")
        #expect(sg10.children.first(where: { $0.tag == "SGP" })?.maxRepeats == 99)
        #expect(sg10.children.first(where: { $0.tag == "CST" })?.maxRepeats == 1)
        let nad = try #require(m.segments["NAD"])
        #expect(nad.elements.map(\.id) == ["3035", "C082", "C058", "C080", "C059", "3164", "3229", "3251", "3207"])
        #expect(nad.elements[1].components.map(\.id) == ["3039", "1131", "3055"])
        #expect(nad.elements[1].components[0].requirement == .mandatory)
        #expect(nad.elements[1].components[0].format == ElementFormat(.alphanumeric, maxLength: 35))
        #expect(m.segments["UNH"] == nil)
    }

    @Test func directoriesDifferWhereTheStandardChanged() throws {
        let d95 = try #require(Directory.message(identifier: ["CUSCAR", "D", "95B", "UN"]))
        let d96 = try #require(Directory.message(identifier: ["CUSCAR", "D", "96A", "UN"]))
        #expect(d95.segments["LOC"]?.elements[1].components[3].format.description == "an..17")
        #expect(d96.segments["LOC"]?.elements[1].components[3].format.description == "an..70")
        #expect(d95.segments["NAD"]?.elements[4].components.count == 3)
        #expect(d96.segments["NAD"]?.elements[4].components.count == 4)
        // D96A wrapped the header NAD in SG1 (NAD-SG2 CTA-COM).
        #expect(d95.structure[4].kind == .segment("NAD"))
        #expect(d96.structure[4].kind == .group(1) && d96.structure[4].maxRepeats == 99)
    }

    @Test func serviceSegmentsPerSyntaxVersion() throws {
        let unb3 = try #require(Directory.serviceSegment(.UNB, syntaxVersion: 3))
        let unb4 = try #require(Directory.serviceSegment(.UNB, syntaxVersion: 4))
        #expect(unb3.elements[3].components[0].format.description == "n6")
        #expect(unb4.elements[3].components[0].format.description == "n8")
        #expect(unb3.elements[0].components.map(\.id) == ["0001", "0002"])
        #expect(unb4.elements[0].components.map(\.id) == ["0001", "0002", "0080", "0133", "0076"])
        #expect(Directory.serviceSegment(.UNT, syntaxVersion: 3)?.elements[0].format?.description == "n..6")
        #expect(Directory.serviceSegment(.UNT, syntaxVersion: 4)?.elements[0].format?.description == "n..10")
        // BEDI lost UNH 060 S017 in version 4; the generator fills it in, so S018 stays at position 8.
        #expect(Directory.serviceSegment(.UNH, syntaxVersion: 4)?.elements.map(\.id) == ["0062", "S009", "0068", "S010", "S016", "S017", "S018"])
        #expect(Directory.serviceSegment(.UNH, syntaxVersion: 2) == Directory.serviceSegment(.UNH, syntaxVersion: 3))
        #expect(Directory.serviceSegment(.UNH, syntaxVersion: 0) == nil)
        #expect(Directory.serviceSegment("UCM", syntaxVersion: 4)?.elements[7].maxRepeats == 99)
        #expect(Directory.serviceSegment("BGM", syntaxVersion: 3) == nil)
    }

    @Test func elementFormatNotation() {
        #expect(ElementFormat("an..35") == ElementFormat(.alphanumeric, maxLength: 35))
        #expect(ElementFormat("n1") == ElementFormat(.numeric, maxLength: 1, fixed: true))
        #expect(ElementFormat("a3")?.minLength == 3)
        #expect(ElementFormat("n..6")?.minLength == 1)
        #expect(ElementFormat("x..3") == nil)
        #expect(ElementFormat("an..") == nil)
        #expect(ElementFormat("an..0") == nil)
        #expect(ElementFormat(.alphabetic, maxLength: 4, fixed: true).description == "a4")
    }

    // MARK: Valid fixtures

    @Test(arguments: validFixtureNames)
    func validFixtureHasNoFindings(_ name: String) throws {
        let r = DirectoryHarness.run(TestInterchange(bytes: try Self.fixtureBytes(name)))
        #expect(r.diagnostics.isEmpty, "\(name): \(r.diagnostics.map(\.description))")
        #expect(r.countProblems.isEmpty, "\(name): \(r.countProblems)")
        #expect(r.checkedMessages > 0 || !r.unknownMessages.isEmpty, "\(name): no message found")
        if Self.ownFixtures.contains(name) {
            #expect(r.unknownMessages.isEmpty, "\(name): \(r.unknownMessages)")
        }
    }

    @Test func ownFixturesArePresent() {
        #expect(Self.ownFixtures.isSubset(of: Set(Self.validFixtureNames)))
    }

    @Test func d95bShapedManifestAlsoValidatesAsD96A() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[2] = "UNH+M0001+CUSCAR:D:96A:UN'" }
        #expect(Self.findings(text).isEmpty)
    }

    @Test func d96aPartyDateIsNotD95B() throws {
        // SG10 NAD-DTM exists from D96A on; in D95B the consignment party group has no DTM.
        let text = try Self.edit("cuscar-d96a.edi") { $0[2] = "UNH+M0002+CUSCAR:D:95B:UN'" }
        let ds = Self.findings(text)
        #expect(ds.contains { $0.code == .notSupportedInPosition && $0.location.segmentPositionInMessage == 32 && $0.location.segmentTag == "DTM" },
                "\(ds)")
        // CTA/COM after the header NAD are SG2 in D96A; D95B has no place for them there.
        #expect(ds.contains { $0.code == .notSupportedInPosition && $0.location.segmentPositionInMessage == 7 })
    }

    // MARK: 13 missing

    @Test func missingMandatoryGroupInTheMiddle() throws {
        // Consignment 1 loses its goods items (SG10 GID, M9999): found when CNI 2 closes the consignment.
        let text = try Self.edit("cuscar-d95b.edi") { $0.removeSubrange(33...38) }
        let d = Self.expectOne(text, .missing, .segment, position: 31)
        #expect(d?.location.segmentTag == "COM")
        #expect(d?.location.segmentNumber == 32)
        #expect(d?.reason.contains("segment group 10 (starting with GID)") == true, "\(d?.reason ?? "")")
    }

    @Test func missingMandatoryGroupBeforeTheNextOne() throws {
        // COREOR SG1 (TDT, M1) removed: reported at the RFF before it when NAD (SG2) comes.
        let text = try Self.edit("coreor-d95b.edi") { $0.removeSubrange(5...7) }
        let d = Self.expectOne(text, .missing, .segment, position: 3)
        #expect(d?.location.segmentTag == "RFF")
    }

    @Test func missingMandatorySegmentInAGroup() throws {
        // COREOR SG7 requires RFF (M9) after EQD.
        let text = try Self.edit("coreor-d95b.edi") { $0.remove(at: 13) }
        Self.expectOne(text, .missing, .segment, position: 11)
    }

    @Test func missingMandatorySegmentAtTheEnd() throws {
        // COREOR's CNT is M1: missing at UNT, reported at the last segment before it.
        let text = try Self.edit("coreor-d95b.edi") { $0.remove(at: 19) }
        let d = Self.expectOne(text, .missing, .segment, position: 17)
        #expect(d?.reason.contains("mandatory segment CNT") == true)
    }

    @Test func missingMandatoryGroupAtTheEnd() throws {
        // CUSRES SG5 (RFF) is M9999.
        let text = try Self.edit("cusres-d96a.edi") { $0.removeSubrange(6...8) }
        Self.expectOne(text, .missing, .segment, position: 4)
    }

    @Test func emptyMessageMissesItsBeginning() throws {
        let text = try Self.edit("cusres-d96a.edi") { $0.removeSubrange(3...8) }
        let ds = Self.findings(text)
        #expect(ds.map(\.code) == [.missing, .missing])
        #expect(ds.map(\.location.segmentPositionInMessage) == [1, 1])
        #expect(ds[0].reason.contains("BGM"))
    }

    @Test func missingMandatorySimpleElement() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[7] = "NAD++MSC:172:20'" }
        let d = Self.expectOne(text, .missing, .element, position: 6, element: 2)
        #expect(d?.reason == "mandatory data element NAD 3035 is missing")
    }

    @Test func missingMandatoryComponent() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[25] = "RFF+:MEDUSH123456'" }
        let d = Self.expectOne(text, .missing, .element, position: 24, element: 2, component: 1)
        #expect(d?.reason == "mandatory component RFF C506/1153 is missing")
    }

    @Test func missingMandatoryComposite() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[4] = "DTM'" }
        Self.expectOne(text, .missing, .element, position: 3, element: 2)
    }

    // MARK: 15 not supported in this position

    @Test func segmentOutOfOrder() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0.insert("BGM+85+MAN2025-0050+9'", at: 5) }
        let d = Self.expectOne(text, .notSupportedInPosition, .segment, position: 4)
        #expect(d?.location.segmentTag == "BGM")
    }

    @Test func unknownSegmentTag() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0.insert("ZZZ+1'", at: 10) }
        let d = Self.expectOne(text, .notSupportedInPosition, .segment, position: 9)
        #expect(d?.reason == "CUSCAR:D:95B:UN has no segment ZZZ")
    }

    @Test func contrlDataElementErrorWithoutSegmentError() throws {
        // UCD only follows UCS.
        let text = try String(decoding: Self.fixtureBytes("contrl-v3.edi"), as: UTF8.self)
            .replacingOccurrences(of: "UCM+M0002+CUSCAR:D:95B:UN+4'\nUCS+3'\n", with: "UCM+M0002+CUSCAR:D:95B:UN+4'\n")
        Self.expectOne(text, .notSupportedInPosition, .segment, position: 5)
    }

    // MARK: 16 too many constituents

    @Test func tooManyDataElements() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[3] = "BGM+85+MAN2025-0050+9+AP+EXTRA'" }
        let d = Self.expectOne(text, .tooManyConstituents, .element, position: 2, element: 6)
        #expect(d?.reason == "BGM has 5 data elements; at most 4 allowed")
    }

    @Test func tooManyComponents() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[4] = "DTM+137:202501310930:203:X'" }
        Self.expectOne(text, .tooManyConstituents, .element, position: 3, element: 2, component: 4)
    }

    @Test func componentsInASimpleElement() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[3] = "BGM+85+MAN2025-0050:X+9'" }
        Self.expectOne(text, .tooManyConstituents, .element, position: 2, element: 3, component: 2)
    }

    // MARK: 35 / 36 repetitions

    @Test func tooManySegmentRepetitions() throws {
        // DTM is C9 in the CUSCAR header; the tenth is one too many.
        let text = try Self.edit("cuscar-d95b.edi") { $0.insert(contentsOf: Array(repeating: "DTM+137:202501310930:203'", count: 9), at: 5) }
        let d = Self.expectOne(text, .tooManySegmentRepetitions, .segment, position: 12)
        #expect(d?.location.segmentTag == "DTM")
    }

    @Test func tooManyGroupRepetitions() throws {
        // COREOR SG1 (TDT-RFF-LOC-DTM) is M1.
        let text = try Self.edit("coreor-d95b.edi") {
            let group = Array($0[5...7])
            $0.insert(contentsOf: group, at: 8)
        }
        let d = Self.expectOne(text, .tooManyGroupRepetitions, .segment, position: 7)
        #expect(d?.location.segmentTag == "TDT")
    }

    @Test func tooManyElementRepetitionsInVersion4() throws {
        // UCM S020 (element 8, CONTRL position 9) repeats at most 99 times.
        let s020 = Array(repeating: "AAA:REF", count: 100).joined(separator: "*")
        let text = try Self.edit("contrl-v4.edi") { $0[4] = "UCM+M0001+CUSCAR:D:95B:UN+4+++++\(s020)'" }
        let d = Self.expectOne(text, .tooManySegmentRepetitions, .element, position: 3, element: 9)
        #expect(d?.location.repetition == 100)
    }

    // MARK: 37 / 39 / 40 values

    @Test func lettersInANumericElement() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[33] = "GID+X1+120:CT'" }
        let d = Self.expectOne(text, .invalidCharacterType, .element, position: 32, element: 2)
        #expect(d?.reason.hasPrefix("GID 1496 must be numeric (n..5)") == true, "\(d?.reason ?? "")")
    }

    @Test func wrongDecimalMark() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[15] = "MEA+AAE+G+KGM:18,250'" }
        Self.expectOne(text, .invalidCharacterType, .element, position: 14, element: 4, component: 2)
    }

    @Test func decimalCommaWhenUNASaysSo() throws {
        let comma = try Self.fixture("cuscar-d95b.edi").replacingOccurrences(of: "UNA:+.? '", with: "UNA:+,? '")
            .replacingOccurrences(of: "24100.5", with: "24100,5").replacingOccurrences(of: "42350.5", with: "42350,5")
        #expect(Self.findings(comma).isEmpty)
        let point = comma.replacingOccurrences(of: "CNT+7:42350,5:KGM", with: "CNT+7:42350.5:KGM")
        Self.expectOne(point, .invalidCharacterType, .element, position: 22, element: 2, component: 2)
    }

    @Test func minusSignAndDecimalMarkAreNotCounted() throws {
        let eighteen = "-12345678901234567.8"
        let ok = try Self.edit("cuscar-d95b.edi") { $0[15] = "MEA+AAE+G+KGM:\(eighteen)'" }
        #expect(Self.findings(ok).isEmpty)
        let tooLong = try Self.edit("cuscar-d95b.edi") { $0[15] = "MEA+AAE+G+KGM:-123456789012345678.9'" }
        let d = Self.expectOne(tooLong, .tooLong, .element, position: 14, element: 4, component: 2)
        #expect(d?.reason == "MEA C174/6314 is 19 digits long; at most 18 allowed (n..18)")
    }

    @Test func digitsInAnAlphabeticElement() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[1] = "UNB+UNO1:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+CUS000130++CUSCAR++1'" }
        let d = Self.expectOne(text, .invalidCharacterType, .element, position: 0, element: 2, component: 1)
        #expect(d?.location.segmentTag == "UNB")
    }

    @Test func valueTooLong() throws {
        let name = String(repeating: "A", count: 40)
        let lines = try Self.fixture("cuscar-d95b.edi").components(separatedBy: "\n")
        let text = try Self.edit("cuscar-d95b.edi") { $0[7] = "NAD+CA+\(name):172:20'" }
        let d = Self.expectOne(text, .tooLong, .element, position: 6, element: 3, component: 1)
        #expect(d?.reason == "NAD C082/3039 is 40 characters long; at most 35 allowed (an..35)")
        // Location: the NAD is segment 7 (UNB is 1); the value starts 7 bytes into it.
        let nadOffset = lines[0..<7].reduce(0) { $0 + $1.utf8.count + 1 }
        #expect(d?.location.segmentNumber == 7)
        #expect(d?.location.byteOffset == nadOffset + 7)
        #expect(d?.location.segmentTag == "NAD")
    }

    @Test func releaseCharactersAreNotCounted() throws {
        // 35 characters, two of them released: 37 bytes.
        let name = "A?+B?'" + String(repeating: "C", count: 31)
        let text = try Self.edit("cuscar-d95b.edi") { $0[7] = "NAD+CA+\(name):172:20'" }
        #expect(Self.findings(text).isEmpty)
        let longer = try Self.edit("cuscar-d95b.edi") { $0[7] = "NAD+CA+\(name)C:172:20'" }
        Self.expectOne(longer, .tooLong, .element, position: 6, element: 3, component: 1)
    }

    @Test func utf8CountsCharactersNotBytes() throws {
        let chinese = try Self.fixture("cuscar-d95b-unoy-v4-chinese.edi")
        let line = try #require(chinese.components(separatedBy: "\n").firstIndex { $0.hasPrefix("NAD+CN") })
        var lines = chinese.components(separatedBy: "\n")
        lines[line] = "NAD+CN+++" + String(repeating: "港", count: 35) + "'"
        #expect(Self.findings(lines.joined(separator: "\n")).isEmpty)
        lines[line] = "NAD+CN+++" + String(repeating: "港", count: 36) + "'"
        let d = Self.expectOne(lines.joined(separator: "\n"), .tooLong, .element, position: line - 1, element: 5, component: 1)
        #expect(d?.reason == "NAD C080/3036 is 36 characters long; at most 35 allowed (an..35)")
    }

    @Test func fixedLengthTooShort() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[20] = "TMP+2+18:CEL'" }
        let d = Self.expectOne(text, .tooShort, .element, position: 19, element: 3, component: 1)
        #expect(d?.reason == "TMP C239/6246 is 2 digits long; exactly 3 required (n3)")
    }

    @Test func serviceDateTooShort() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0[1] = "UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+25013:0930+CUS000130++CUSCAR++1'" }
        Self.expectOne(text, .tooShort, .element, position: 0, element: 5, component: 1)
    }

    @Test func version4HeaderElements() throws {
        let v4 = "UNH+M0001+CUSCAR:D:95B:UN+++SUB1+MIG1+SCN1'"
        let text = try Self.edit("cuscar-d95b-unoy-v4-chinese.edi") { $0[2] = v4 }
        #expect(Self.findings(text).isEmpty)
        let v3 = try Self.edit("cuscar-d95b.edi") { $0[2] = v4 }
        Self.expectOne(v3, .tooManyConstituents, .element, position: 1, element: 6)
    }

    // MARK: Robustness

    @Test func findingsAreCappedPerMessage() throws {
        let text = try Self.edit("cuscar-d95b.edi") { $0.insert(contentsOf: Array(repeating: "ZZZ+1'", count: 1_000), at: 5) }
        let ds = Self.findings(text)
        #expect(ds.count == MessageStructureValidator.maxDiagnosticsPerMessage)
        #expect(ds.allSatisfy { $0.code == .notSupportedInPosition })
    }

    @Test func hostileTriggersStayBounded() throws {
        // A hostile body of nothing but group triggers stays bounded and does not crash.
        var body: [String] = []
        for i in 0..<30_000 { body.append(i % 2 == 0 ? "CNI+1'" : "GID+1'") }
        let text = try Self.edit("cuscar-d95b.edi") { $0.insert(contentsOf: body, at: 5) }
        let ds = Self.findings(text)
        #expect(ds.count <= MessageStructureValidator.maxDiagnosticsPerMessage)
    }
}

/// Differential check of the structure walk: the validator (flattened tables, precomputed transitions) against
/// a plain recursive walk of the public `MessageDefinition` tree, over seeded random segment sequences.
@Suite struct StructureWalkTests {
    /// A small seeded generator (xorshift64*), so failures reproduce.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// The reference: the same greedy rules, written directly over the tree.
    struct ReferenceWalker {
        struct Level {
            var nodes: [StructureNode]
            var index: Int
            var count: Int
        }

        var stack: [Level]
        var lastPosition = 1
        var findings: [(code: Int, position: Int)] = []

        init(_ m: MessageDefinition) {
            stack = [Level(nodes: Array(m.structure.dropFirst().dropLast()), index: -1, count: 0)]
        }

        mutating func accept(_ tag: SegmentTag, position: Int) {
            var match: (level: Int, index: Int, isRepeat: Bool)?
            var full: (level: Int, index: Int)?
            search: for level in stride(from: stack.count - 1, through: 0, by: -1) {
                let l = stack[level]
                if l.index >= 0 && l.nodes[l.index].tag == tag {
                    if l.count < l.nodes[l.index].maxRepeats {
                        match = (level, l.index, true)
                        break search
                    }
                    if full == nil { full = (level, l.index) }
                }
                for i in (l.index + 1)..<l.nodes.count where l.nodes[i].tag == tag {
                    match = (level, i, false)
                    break search
                }
            }
            var overflow = false
            if match == nil, let f = full {
                match = (f.level, f.index, true)
                overflow = true
            }
            guard let m = match else {
                findings.append((15, position))
                lastPosition = position
                return
            }
            for level in stride(from: stack.count - 1, through: m.level, by: -1) {
                let l = stack[level]
                let end = level == m.level ? (m.isRepeat ? l.index + 1 : m.index) : l.nodes.count
                for i in (l.index + 1)..<max(end, l.index + 1) where l.nodes[i].requirement == .mandatory {
                    findings.append((13, lastPosition))
                }
            }
            if overflow { findings.append((stack[m.level].nodes[m.index].isGroup ? 36 : 35, position)) }
            stack.removeLast(stack.count - 1 - m.level)
            if m.isRepeat {
                stack[m.level].count += 1
            } else {
                stack[m.level].index = m.index
                stack[m.level].count = 1
            }
            let node = stack[m.level].nodes[m.index]
            if node.isGroup { stack.append(Level(nodes: node.children, index: 0, count: 1)) }
            lastPosition = position
        }

        mutating func finish() {
            for l in stack.reversed() {
                for i in (l.index + 1)..<l.nodes.count where l.nodes[i].requirement == .mandatory {
                    findings.append((13, lastPosition))
                }
            }
        }
    }

    /// A plausible body: a random walk that mostly follows the structure, with some noise.
    static func body(_ m: MessageDefinition, _ r: inout Random, noise: Bool) -> [SegmentTag] {
        var out: [SegmentTag] = []
        func emit(_ nodes: [StructureNode], depth: Int) {
            for n in nodes {
                let times = n.requirement == .mandatory ? 1 + r.below(2) : r.below(depth > 2 ? 2 : 3)
                for _ in 0..<min(times, n.maxRepeats + (noise ? 1 : 0)) {
                    if out.count > 80 { return }
                    if n.isGroup { emit(n.children, depth: depth + 1) } else { out.append(n.tag) }
                }
            }
        }
        emit(Array(m.structure.dropFirst().dropLast()), depth: 0)
        if noise {
            let envelope: Set<SegmentTag> = [.UNB, .UNG, .UNH, .UNT, .UNE, .UNZ]
            let tags = m.segments.keys.filter { !envelope.contains($0) }.sorted { $0.rawValue < $1.rawValue } + ["ZZZ"]
            for _ in 0..<r.below(4) where !out.isEmpty {
                switch r.below(3) {
                case 0: out.remove(at: r.below(out.count))
                case 1: out.insert(tags[r.below(tags.count)], at: r.below(out.count + 1))
                default: out.insert(out[r.below(out.count)], at: r.below(out.count + 1))
                }
            }
        }
        return out
    }

    @Test(arguments: Directory.messageIdentifiers.map { $0.joined(separator: ":") })
    func validatorAgreesWithTheReferenceWalk(_ id: String) throws {
        let m = try #require(Directory.message(identifier: id.split(separator: ":").map(String.init)))
        var r = Random(state: 0x9E37_79B9_7F4A_7C15 ^ UInt64(id.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        for round in 0..<300 {
            let tags = Self.body(m, &r, noise: round % 3 != 0)
            var reference = ReferenceWalker(m)
            for (i, t) in tags.enumerated() { reference.accept(t, position: i + 2) }
            reference.finish()
            let text = (["UNB+UNOC:3+A+B+250101:0000+1'", "UNH+1+\(id)'"] + tags.map { "\($0)'" }
                        + ["UNT+\(tags.count + 2)+1'", "UNZ+1+1'"]).joined()
            let ours = DirectoryHarness.run(text).diagnostics.filter { $0.level == .segment }
            let got = ours.map { "\($0.code.rawValue)@\($0.location.segmentPositionInMessage)" }
            let want = reference.findings.map { "\($0.code)@\($0.position)" }
            #expect(got == want, "\(id) round \(round): \(tags.map(\.description).joined(separator: " "))")
            if got != want { break }
        }
    }
}
