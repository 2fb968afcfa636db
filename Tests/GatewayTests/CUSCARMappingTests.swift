import EDIFACT
import Foundation
import Jobs
import Testing
import TestSupport

@testable import Gateway

/// CUSCAR D95B / D96A ↔ canonical manifest: the notes' example and the engine's fixtures map to the exact
/// model, every refusal names its code, consignment and segment, and what the writer sends customs
/// validates (ours and pydifact) and maps back to the same manifest.
@Suite("CUSCAR mapping")
struct CUSCARMappingTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let engineFixtures = root.deletingLastPathComponent().appendingPathComponent("EDIFACTTests/Fixtures/valid")
    static let fixtures = root.appendingPathComponent("Fixtures/manifest")

    static func bytes(_ url: URL) throws -> [UInt8] { try [UInt8](Data(contentsOf: url)) }
    static func text(_ url: URL) throws -> String { String(decoding: try bytes(url), as: UTF8.self) }

    static func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Date {
        Date(timeIntervalSince1970: TimeInterval(CivilDate.daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s))
    }

    /// The model the notes' example (§4.4) must give.
    static let notesManifest = Manifest(
        documentNumber: "MAN2025-0042", function: .original, issuedAt: utc(2025, 1, 31, 9, 30), sender: "CARRIERX",
        transport: TransportMeans(mode: .sea, voyage: "FA503R", meansId: "3FZO7", meansName: "MSC GULSUN", carrier: "MSC",
                                  departurePort: "CNSHA", arrivalPort: "KEMBA", arrival: utc(2025, 2, 5, 14)),
        containers: [
            Container(number: "MSCU1234566", sizeType: "45G1", seals: ["FJ123456"], isFull: true, grossWeightKg: 18250),
            Container(number: "TGHU7654320", sizeType: "22G1", seals: ["FJ123457"], isFull: true, grossWeightKg: 9800),
        ],
        consignments: [Consignment(
            billOfLading: "MEDUSH123456", loadingPort: "CNSHA", dischargePort: "KEMBA",
            parties: [Party(role: .shipper, name: "SHANGHAI EXPORTS LTD"), Party(role: .consignee, name: "NAIROBI IMPORTS LTD")],
            goods: [
                GoodsItem(sequence: 1, packages: 120, packageType: "CT", description: "COTTON T-SHIRTS, KNITTED", grossWeightKg: 18250,
                          hsCode: "610910", containers: [ContainerShare(container: "MSCU1234566", packages: 120)]),
                GoodsItem(sequence: 2, packages: 40, packageType: "PK", description: "MACHINE PARTS", grossWeightKg: 9800,
                          hsCode: "847990", containers: [ContainerShare(container: "TGHU7654320", packages: 40)]),
            ])])

    /// The model both realistic fixtures (D95B, D96A) must give: inland waterway, TNE and LBR weights,
    /// house bills under a master, dangerous goods, one goods item in two containers.
    static let realisticManifest = Manifest(
        documentNumber: "COSU-CQ-2025-0301", function: .replace, issuedAt: utc(2025, 3, 1, 12, 0, 5), sender: "COSCOCQ",
        transport: TransportMeans(mode: .inlandWaterway, voyage: "0301E", meansId: "BTCQ88", meansName: "CHANGJIANG STAR 88",
                                  nationality: "CN", carrier: "COSU", departurePort: "CNCKG", arrivalPort: "CNSHA",
                                  departure: utc(2025, 3, 1, 18), arrival: utc(2025, 3, 6)),
        containers: [
            Container(number: "CBHU3000011", sizeType: "45G1", seals: ["CQ100001", "CQ100002"], isFull: true, grossWeightKg: 18250),
            Container(number: "CBHU3000027", sizeType: "22G1", isFull: true, grossWeightKg: 9999.897),
            Container(number: "OOLU8123457", sizeType: "22G1", isFull: true, grossWeightKg: 4200),
            Container(number: "FCIU5550015", sizeType: "20G1", isFull: false),
        ],
        consignments: [
            Consignment(
                billOfLading: "COSU6300001", loadingPort: "CNCKG", dischargePort: "CNSHA",
                parties: [
                    Party(role: .shipper, id: "91500000MA5U000001", name: "CHONGQING LAPTOP EXPORT CO LTD",
                          address: "18 HUANGSHAN AVENUE, LIANGJIANG NEW AREA, CHONGQING", country: "CN"),
                    Party(role: .consignee, name: "HAMBURG ELECTRONICS GMBH", address: "KAISERKAI 1, HAMBURG", country: "DE"),
                    Party(role: .notify, name: "HAMBURG ELECTRONICS GMBH"),
                ],
                goods: [
                    GoodsItem(sequence: 1, packages: 1200, packageType: "CT", description: "LAPTOP COMPUTERS WITH LITHIUM ION BATTERIES: 15+ INCH",
                              grossWeightKg: 12500, hsCode: "84713000", dangerousGoods: [DangerousGoods(unNumber: "3481", hazardClass: "9")],
                              containers: [ContainerShare(container: "CBHU3000011", packages: 700), ContainerShare(container: "CBHU3000027", packages: 500)]),
                    GoodsItem(sequence: 2, packages: 20, packageType: "PK", description: "SPARE BATTERIES", grossWeightKg: 480.5, hsCode: "850760",
                              dangerousGoods: [DangerousGoods(unNumber: "3480", hazardClass: "9")],
                              containers: [ContainerShare(container: "CBHU3000011", packages: 20)]),
                ]),
            Consignment(
                billOfLading: "HBLCQ-0001", masterBillOfLading: "COSU6300002", loadingPort: "CNCKG", dischargePort: "CNSHA",
                parties: [Party(role: .shipper, name: "CHONGQING MOTOR PARTS CO"), Party(role: .consignee, name: "SHANGHAI AUTO IMPORT CO"),
                          Party(role: .freightForwarder, name: "CQ FORWARDING LTD")],
                goods: [GoodsItem(sequence: 1, packages: 30, packageType: "PL", description: "MOTORCYCLE ENGINES", grossWeightKg: 7200,
                                  hsCode: "840731", containers: [ContainerShare(container: "CBHU3000027", packages: 30)])]),
            Consignment(
                billOfLading: "HBLCQ-0002", masterBillOfLading: "COSU6300002",
                parties: [Party(role: .shipper, name: "CHONGQING PAINT WORKS"), Party(role: .consignee, name: "SHANGHAI COATINGS CO")],
                goods: [GoodsItem(sequence: 1, packages: 10, packageType: "DR", description: "PAINT", grossWeightKg: 2000, hsCode: "320890",
                                  dangerousGoods: [DangerousGoods(unNumber: "1263", hazardClass: "3")],
                                  containers: [ContainerShare(container: "OOLU8123457", packages: 10)])]),
        ])

    static func only(_ bytes: [UInt8]) throws -> CUSCARMessageMapping {
        let all = CUSCARMapping.map(bytes)
        try #require(all.count == 1, "expected one CUSCAR message, got \(all.count)")
        return all[0]
    }

    // MARK: - Reading

    @Test("the notes' example maps to the exact model")
    func notesExample() throws {
        let mapping = try Self.only(Self.bytes(Self.engineFixtures.appendingPathComponent("cuscar-d95b-notes.edi")))
        #expect(mapping.errors == [])
        #expect(mapping.directory == .d95B && mapping.messageReference == "M0001")
        #expect(mapping.manifest == Self.notesManifest)
    }

    @Test("the engine's CUSCAR fixtures map: grouped, two interchanges, Level B, UNOY Chinese, D95B, D96A")
    func engineFixtures() throws {
        let file = { (name: String) in try Self.bytes(Self.engineFixtures.appendingPathComponent(name)) }
        for name in ["cuscar-d95b-grouped.edi", "cuscar-d95b-two-interchanges.edi"] {
            let results = CUSCARMapping.manifests(from: try file(name))
            #expect(results.count == 2, "\(name)")
            for r in results { #expect(try r.get() == Self.notesManifest, "\(name)") }
        }
        #expect(try CUSCARMapping.manifests(from: file("cuscar-d95b-unob-level-b.edi")).map { try $0.get() } == [Self.notesManifest])

        var chinese = Self.notesManifest
        chinese.consignments[0].parties[1].name = "上海进出口有限公司重庆分公司第一国际物流部门 进口部"
        #expect(try CUSCARMapping.manifests(from: file("cuscar-d95b-unoy-v4-chinese.edi")).map { try $0.get() } == [chinese])

        // This fixture's second container, CGMU5550012, has a wrong ISO 6346 check digit (it should be 8):
        // the mapper refuses it as filed, and maps the corrected copy.
        let asFiled = try Self.only(file("cuscar-d95b.edi"))
        #expect(asFiled.errors.map(\.code) == ["manifest.container-check-digit"] && asFiled.errors.first?.location == "EQD segment 16")
        let corrected = String(decoding: try file("cuscar-d95b.edi"), as: UTF8.self).replacingOccurrences(of: "CGMU5550012", with: "CGMU5550018")
        let d95b = try Self.only(Array(corrected.utf8))
        var expected = Self.notesManifest
        expected.documentNumber = "MAN2025-0050"
        expected.containers[1] = Container(number: "CGMU5550018", sizeType: "45R1", seals: ["FJ123460"], isFull: true, grossWeightKg: 24100.5)
        expected.consignments[0].parties = [
            Party(role: .shipper, name: "SHANGHAI EXPORTS LTD", address: "88 ZHONGSHAN ROAD, SHANGHAI", country: "CN"),
            Party(role: .consignee, name: "NAIROBI IMPORTS LTD"), Party(role: .notify, name: "NAIROBI IMPORTS LTD"),
        ]
        expected.consignments[0].goods.removeLast()
        expected.consignments.append(Consignment(
            billOfLading: "MEDUSH123457", loadingPort: "CNSHA", dischargePort: "KEMBA",
            parties: [Party(role: .shipper, name: "NINGBO SEAFOOD CO"), Party(role: .consignee, name: "MOMBASA COLD STORES")],
            goods: [GoodsItem(sequence: 1, packages: 800, packageType: "CT", description: "FROZEN FISH FILLETS", grossWeightKg: 24100.5,
                              hsCode: "030461", containers: [ContainerShare(container: "CGMU5550018", packages: 800)])]))
        #expect(d95b.errors == [])
        #expect(d95b.manifest == expected)

        // D96A: header NAD group with CTA/COM, on-carriage TDT with its own LOC, party DTM, a house bill
        // whose master is the CNI document number, AUT trailer.
        let d96a = try Self.only(file("cuscar-d96a.edi"))
        #expect(d96a.errors == [] && d96a.directory == .d96A)
        let m = try #require(d96a.manifest)
        #expect(m.documentNumber == "MAN2025-0051" && m.transport.voyage == "FA507R" && m.issuedAt == Self.utc(2025, 2, 14, 8, 15))
        #expect(m.containers.map(\.number) == ["MSCU1234566", "TGHU7654320"] && m.containers[1].grossWeightKg == 21400)
        #expect(m.consignments.map(\.billOfLading) == ["MEDUSH223456", "MEDUSH223457", "HBL2025-0001"])
        #expect(m.consignments.map(\.masterBillOfLading) == [nil, nil, "MEDUSH223458"])
        #expect(m.consignments[0].loadingPort == "CNSHA" && m.consignments[0].dischargePort == "KEMBA")
        #expect(m.consignments[2].goods == [GoodsItem(sequence: 1, packages: 40, packageType: "PK", description: "MACHINE PARTS",
                                                        grossWeightKg: 5400, hsCode: "847990",
                                                        containers: [ContainerShare(container: "MSCU1234566", packages: 40)])])
    }

    @Test("a realistic manifest maps the same from D95B and D96A", arguments: ["realistic-d95b.edi", "realistic-d96a.edi"])
    func realistic(name: String) throws {
        let mapping = try Self.only(Self.bytes(Self.fixtures.appendingPathComponent(name)))
        #expect(mapping.errors == [])
        #expect(mapping.manifest == Self.realisticManifest)
        if let got = mapping.manifest, got != Self.realisticManifest {
            for (a, b) in zip(got.consignments, Self.realisticManifest.consignments) where a != b { Issue.record("\(a)\n≠\n\(b)") }
        }
    }

    @Test("DTM formats 101, 102, 201, 203, 204 read as UTC; impossible dates do not")
    func dates() {
        func read(_ value: String, _ format: String?) -> Date? {
            Array(value.utf8).withUnsafeBufferPointer { v in
                guard let format else { return EDIFACTDates.date(v, format: nil) }
                return Array(format.utf8).withUnsafeBufferPointer { EDIFACTDates.date(v, format: $0) }
            }
        }
        #expect(read("250131", "101") == Self.utc(2025, 1, 31))
        #expect(read("20250131", "102") == Self.utc(2025, 1, 31))
        #expect(read("2501310930", "201") == Self.utc(2025, 1, 31, 9, 30))
        #expect(read("202501310930", "203") == Self.utc(2025, 1, 31, 9, 30))
        #expect(read("20240229093015", "204") == Self.utc(2024, 2, 29, 9, 30, 15))
        #expect(read("202501310930", nil) == Self.utc(2025, 1, 31, 9, 30))
        #expect(read("20250230", "102") == nil && read("202501312460", "203") == nil && read("2025013", "102") == nil)
        #expect(read("20250131", "999") == nil && read("2025X131", "102") == nil)
        let date = Self.utc(1999, 12, 31, 23, 59, 58)
        #expect(EDIFACTDates.value(date) == ("19991231235958", "204"))
    }

    // MARK: - Refusals

    /// The notes' example with one line replaced (the `occurrence`th line equal to `line`).
    static func variant(_ base: String, replacing line: String, with new: String, occurrence: Int = 1) -> String {
        var lines = base.components(separatedBy: "\n")
        var seen = 0
        for i in lines.indices where lines[i] == line {
            seen += 1
            if seen == occurrence { lines[i] = new; break }
        }
        return lines.joined(separator: "\n")
    }

    /// "TAG segment N" (UNH = 1) and the byte offset of the `occurrence`th line equal to `line`.
    static func place(of line: String, in text: String, occurrence: Int = 1) -> (String, Int)? {
        var offset = 0, position = 0, seen = 0
        for l in text.components(separatedBy: "\n") {
            if l.hasPrefix("UNH") { position = 0 }
            position += 1
            if l == line {
                seen += 1
                if seen == occurrence { return ("\(l.prefix(3)) segment \(position)", offset) }
            }
            offset += l.utf8.count + 1
        }
        return nil
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var base = "cuscar-d95b-notes.edi"
        var line: String
        var new: String
        var occurrence = 1
        var code: String
        var consignment: String?
        /// Errors in all (a bad EQD number also leaves the SGP naming it unknown).
        var count = 1
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "missing BGM 1004", line: "BGM+85+MAN2025-0042+9'", new: "BGM+85++9'", code: "manifest.missing-document-number"),
        Case(name: "unknown BGM 1225", line: "BGM+85+MAN2025-0042+9'", new: "BGM+85+MAN2025-0042+7'", code: "manifest.unknown-function"),
        Case(name: "missing transport mode", line: "TDT+20+FA503R+1++MSC:172:20+++3FZO7:103::MSC GULSUN'",
             new: "TDT+20+FA503R+++MSC:172:20+++3FZO7:103::MSC GULSUN'", code: "manifest.missing-transport-mode"),
        Case(name: "unknown transport mode", line: "TDT+20+FA503R+1++MSC:172:20+++3FZO7:103::MSC GULSUN'",
             new: "TDT+20+FA503R+9++MSC:172:20+++3FZO7:103::MSC GULSUN'", code: "manifest.unknown-transport-mode"),
        Case(name: "container check digit", line: "EQD+CN+TGHU7654320+22G1:102:5++3+5'", new: "EQD+CN+TGHU7654321+22G1:102:5++3+5'",
             code: "manifest.container-check-digit", count: 2),
        Case(name: "SGP names an unknown container", line: "SGP+TGHU7654320+40'", new: "SGP+CSQU3054383+40'",
             code: "manifest.unknown-container", consignment: "MEDUSH123456"),
        Case(name: "consignment without a bill of lading", line: "CNI+1+MEDUSH123456'", new: "CNI+1+MEDUSH123456'",
             code: "manifest.missing-bill-of-lading", consignment: "MEDUSH123456"),
        Case(name: "duplicate bill of lading", base: "cuscar-d95b.edi", line: "RFF+BM:MEDUSH123457'", new: "RFF+BM:MEDUSH123456'",
             code: "manifest.duplicate-bill-of-lading", consignment: "MEDUSH123456", count: 2),  // + that fixture's CGMU5550012
        Case(name: "HS code too short", line: "CST++610910:122'", new: "CST++6109:122'", code: "manifest.bad-hs-code", consignment: "MEDUSH123456"),
        Case(name: "HS code with letters", line: "CST++847990:122'", new: "CST++8479AB:169'", code: "manifest.bad-hs-code", consignment: "MEDUSH123456"),
        Case(name: "goods weight not a number", line: "MEA+AAE+G+KGM:9800'", new: "MEA+AAE+G+KGM:98O0'", occurrence: 2,
             code: "manifest.bad-weight", consignment: "MEDUSH123456"),
        Case(name: "container weight in an unknown unit", line: "MEA+AAE+G+KGM:18250'", new: "MEA+AAE+G+XYZ:18250'",
             code: "manifest.unknown-weight-unit"),
        Case(name: "goods weight in an unknown unit", line: "MEA+AAE+G+KGM:18250'", new: "MEA+AAE+G+ONZ:18250'", occurrence: 2,
             code: "manifest.unknown-weight-unit", consignment: "MEDUSH123456"),
        Case(name: "bad DTM", line: "DTM+137:202501310930:203'", new: "DTM+137:202502300930:203'", code: "manifest.bad-date"),
        Case(name: "bad UN number", line: "CST++847990:122'", new: "DGS+IMD+3+12X3'", code: "manifest.bad-un-number", consignment: "MEDUSH123456"),
        // Values every agency copy must be able to carry (schemas/manifest-1.xsd's types): refused here, where the
        // segment is known, not when a copy fails its own format after the manifest was filed.
        Case(name: "no voyage number", line: "TDT+20+FA503R+1++MSC:172:20+++3FZO7:103::MSC GULSUN'",
             new: "TDT+20++1++MSC:172:20+++3FZO7:103::MSC GULSUN'", code: "manifest.missing-voyage"),
        Case(name: "nationality not a country code", line: "TDT+20+FA503R+1++MSC:172:20+++3FZO7:103::MSC GULSUN'",
             new: "TDT+20+FA503R+1++MSC:172:20+++3FZO7:103::MSC GULSUN:PAN'", code: "manifest.bad-code"),
        Case(name: "arrival port not a UN/LOCODE", line: "LOC+60+KEMBA:139:6'", new: "LOC+60+KEMBA1:139:6'", code: "manifest.bad-location"),
        Case(name: "discharge port not a UN/LOCODE", line: "LOC+11+KEMBA:139:6'", new: "LOC+11+kemba:139:6'",
             code: "manifest.bad-location", consignment: "MEDUSH123456"),
        Case(name: "party country not a country code", line: "NAD+CN+++NAIROBI IMPORTS LTD'", new: "NAD+CN+++NAIROBI IMPORTS LTD+++++KEN'",
             code: "manifest.bad-code", consignment: "MEDUSH123456"),
        Case(name: "equipment that is not a container", line: "EQD+CN+TGHU7654320+22G1:102:5++3+5'", new: "EQD+TE+TGHU7654320+22G1:102:5++3+5'",
             code: "manifest.unsupported-equipment"),
        Case(name: "size-type not an ISO 6346 code", line: "EQD+CN+TGHU7654320+22G1:102:5++3+5'", new: "EQD+CN+TGHU7654320+40HC1:102:5++3+5'",
             code: "manifest.bad-code"),
        Case(name: "package type not a Rec. 21 code", line: "GID+2+40:PK'", new: "GID+2+40:PKG'", code: "manifest.bad-code", consignment: "MEDUSH123456"),
        Case(name: "goods item number 0", line: "GID+2+40:PK'", new: "GID+0+40:PK'", code: "manifest.bad-item-number", consignment: "MEDUSH123456"),
        Case(name: "goods item number twice in a consignment", line: "GID+2+40:PK'", new: "GID+1+40:PK'",
             code: "manifest.duplicate-goods-item", consignment: "MEDUSH123456"),
        Case(name: "goods item without a description", line: "GID+2+40:PK'", new: "GID+2+40:PK'",
             code: "manifest.missing-description", consignment: "MEDUSH123456"),
        Case(name: "hazard class not a class or division", line: "CST++847990:122'", new: "DGS+IMD+3.10+1263'",
             code: "manifest.bad-code", consignment: "MEDUSH123456"),
        Case(name: "weight no copy can state", line: "MEA+AAE+G+KGM:9800'", new: "MEA+AAE+G+TNE:99999999999999'", occurrence: 2,
             code: "manifest.bad-weight", consignment: "MEDUSH123456"),
    ]

    @Test("each refusal names its code, consignment, segment and byte offset", arguments: cases)
    func refusal(_ c: Case) throws {
        var base = try Self.text(Self.engineFixtures.appendingPathComponent(c.base))
        if c.code == "manifest.missing-bill-of-lading" {
            base = Self.variant(base, replacing: "RFF+BM:MEDUSH123456'", with: "RFF+ZZZ:MEDUSH123456'")
        }
        if c.code == "manifest.missing-description" {  // named at its GID
            base = Self.variant(base, replacing: "FTX+AAA+++MACHINE PARTS'", with: "FTX+AAI+++MACHINE PARTS'")
        }
        let text = Self.variant(base, replacing: c.line, with: c.new, occurrence: c.occurrence)
        #expect(text != base || c.line == c.new)
        let (location, offset) = try #require(Self.place(of: c.new, in: text, occurrence: c.code == "manifest.duplicate-bill-of-lading" ? 2 : 1))
        let mapping = try Self.only(Array(text.utf8))
        #expect(mapping.manifest == nil)
        let error = try #require(mapping.errors.first { $0.code == c.code }, "\(mapping.errors)")
        #expect(error.consignment == c.consignment)
        #expect(error.location == location)
        #expect(error.offset == offset)
        #expect(mapping.errors.count == c.count, "\(mapping.errors)")
        #expect(throws: ManifestMappingError.self) { try mapping.result.get() }
    }

    @Test("the model's code forms accept the standards' real codes and refuse near misses")
    func codeForms() {
        for code in ["CNSHA", "KEMBA", "USLAX", "DEHAM", "CNSZ2", "GB9XY"] { #expect(ManifestRules.isLOCODE(code), "\(code)") }
        for code in ["CNSH", "CNSHAA", "cnsha", "CN SH", "CNSH1", "C1SHA", "CNSH0"] { #expect(!ManifestRules.isLOCODE(code), "\(code)") }
        for code in ["1", "3", "9", "2.1", "1.4S", "6.1", "1.1D"] { #expect(ManifestRules.isHazardClass(code), "\(code)") }
        for code in ["0", "10", "2.", "2.10", "1.4s", "1.4SS", ".1", "A", ""] { #expect(!ManifestRules.isHazardClass(code), "\(code)") }
        #expect(ManifestRules.isCountry("CN") && !ManifestRules.isCountry("CHN") && !ManifestRules.isCountry("cn"))
        #expect(ManifestRules.isSizeType("45G1") && ManifestRules.isSizeType("22R1") && !ManifestRules.isSizeType("40HC1") && !ManifestRules.isSizeType("40"))
        #expect(ManifestRules.isPackageType("CT") && ManifestRules.isPackageType("1A") && !ManifestRules.isPackageType("PKG"))
        #expect(ManifestRules.weightKg(9_999_999_999_999) != nil && ManifestRules.weightKg(10_000_000_000_000) == nil && ManifestRules.weightKg(-1) == nil)
        #expect(ManifestRules.instants.contains(Date(timeIntervalSince1970: 0)) && !ManifestRules.instants.contains(Date(timeIntervalSince1970: 253_402_300_800)))
    }

    @Test("a bad container number also leaves its SGP naming an unknown container: both are reported")
    func severalErrors() throws {
        let base = try Self.text(Self.engineFixtures.appendingPathComponent("cuscar-d95b-notes.edi"))
        var text = Self.variant(base, replacing: "EQD+CN+MSCU1234566+45G1:102:5++3+5'", with: "EQD+CN+MSCU1234567+45G1:102:5++3+5'")
        text = Self.variant(text, replacing: "CST++847990:122'", with: "CST++84:122'")
        let mapping = try Self.only(Array(text.utf8))
        #expect(mapping.errors.map(\.code) == ["manifest.container-check-digit", "manifest.unknown-container", "manifest.bad-hs-code"])
        #expect(mapping.errors.map(\.consignment) == [nil, "MEDUSH123456", "MEDUSH123456"])
        #expect(mapping.errors.map(\.location) == ["EQD segment 10", "SGP segment 26", "CST segment 33"])
    }

    @Test("another directory, a message without UNT, and non-CUSCAR messages")
    func envelopes() throws {
        let base = try Self.text(Self.engineFixtures.appendingPathComponent("cuscar-d95b-notes.edi"))
        let other = Self.variant(base, replacing: "UNH+M0001+CUSCAR:D:95B:UN'", with: "UNH+M0001+CUSCAR:D:99B:UN'")
        #expect(try Self.only(Array(other.utf8)).errors.map(\.code) == ["manifest.unsupported-directory"])
        let truncated = String(base[..<base.range(of: "UNT+34")!.lowerBound])
        #expect(try Self.only(Array(truncated.utf8)).errors.map(\.code) == ["manifest.incomplete-message"])
        let coreor = try Self.bytes(Self.engineFixtures.appendingPathComponent("coreor-d95b.edi"))
        #expect(CUSCARMapping.map(coreor).isEmpty)
    }

    // MARK: - Writing

    static let at = EDIFACTDateTime(year: 2025, month: 3, day: 1, hour: 12, minute: 30)

    static func writer(_ d: CUSCARDirectory) -> CUSCARWriter {
        CUSCARWriter(directory: d, sender: ["SWGATEWAY", "ZZZ"], recipient: ["CQCUSTOMS", "ZZZ"])
    }

    /// Every model the round trip runs on: the notes', the realistic one, and one with long text and every function.
    static var models: [Manifest] {
        var long = realisticManifest
        long.documentNumber = "LONG-1"
        long.function = .change
        long.consignments[0].goods[0].description = Array(repeating: "VERY LONG DESCRIPTION OF GOODS", count: 14).joined(separator: " ")
        long.consignments[0].parties[0].name = "A NAME THAT IS LONGER THAN THIRTY FIVE CHARACTERS, SO IT WRAPS"
        long.consignments[0].parties[0].address = "LINE ONE, LINE TWO, LINE THREE, LINE FOUR, LINE FIVE, CITY"
        var cancel = notesManifest
        cancel.function = .cancel
        cancel.issuedAt = nil
        cancel.transport.mode = .rail
        return [notesManifest, realisticManifest, long, cancel]
    }

    @Test("model → CUSCAR → model is the same manifest, and our validator finds nothing", arguments: CUSCARDirectory.allCases)
    func roundTrip(_ d: CUSCARDirectory) throws {
        let bytes = try Self.writer(d).interchange(Self.models, reference: "SWG0000001", at: Self.at)
        let reports = EDIFACTValidator.validate(bytes)
        #expect(reports.count == 1 && reports.allSatisfy(\.isAccepted), "\(reports.flatMap(\.allDiagnostics))")
        #expect(reports.first?.sender.first == "SWGATEWAY" && reports.first?.recipient.first == "CQCUSTOMS")
        #expect(reports.first?.reference == "SWG0000001" && reports.first?.messageCount == Self.models.count)
        let back = CUSCARMapping.map(bytes)
        #expect(back.map(\.directory) == Array(repeating: d, count: Self.models.count))
        #expect(back.flatMap(\.errors) == [])
        #expect(back.map(\.manifest) == Self.models)
        // Deterministic: the same input gives the same bytes.
        #expect(try Self.writer(d).interchange(Self.models, reference: "SWG0000001", at: Self.at) == bytes)
    }

    @Test("the writer releases service characters and the notes' example comes out as filed")
    func writtenText() throws {
        var released = Self.notesManifest
        released.consignments[0].goods[1].description = "PARTS: 'A+B' 50% OFF?"
        let bytes = try Self.writer(.d95B).interchange([released], reference: "SWG0000002", at: Self.at)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("UNA:+.? 'UNB+UNOC:3+SWGATEWAY:ZZZ+CQCUSTOMS:ZZZ+250301:1230+SWG0000002++CUSCAR'UNH+M0001+CUSCAR:D:95B:UN'"))
        #expect(text.contains("FTX+AAA+++COTTON T-SHIRTS, KNITTED'"))
        #expect(text.contains("FTX+AAA+++PARTS?: ?'A?+B?' 50% OFF??'"))
        #expect(try CUSCARMapping.manifests(from: bytes).map { try $0.get() } == [released])
        #expect(text.contains("EQD+CN+MSCU1234566+45G1:102:5+++5'MEA+AAE+G+KGM:18250'SEL+FJ123456'"))
        #expect(text.contains("UNT+32+M0001'UNZ+1+SWG0000002'"))
    }

    @Test("the byte-level fast paths give what the Foundation and character-level paths they replace gave")
    func fastPathsMatchTheGeneralPaths() throws {
        // Text wrapping: ASCII by bytes, Latin letters by scalars; the same lines as by characters.
        var random = SplitMix64(state: 11)
        let alphabet = Array("AB CD  E,F-G.HIJKLMN OP".utf8)
        for _ in 0..<2_000 {
            let length = Int(random.next() % 90)
            let ascii = String(decoding: (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }, as: UTF8.self)
            let latin = ascii.replacingOccurrences(of: "A", with: "Ä")
            for width in [5, 35, 70] {
                #expect(CUSCARWriter.wrap(ascii, width: width).map { $0.replacingOccurrences(of: "A", with: "Ä") }
                        == CUSCARWriter.wrap(latin, width: width), "\(ascii.debugDescription) at \(width)")
                #expect(CUSCARWriter.wrap(ascii, width: width) == CUSCARWriter.wrapCharacters(ascii, width: width))
                #expect(CUSCARWriter.wrap(latin, width: width) == CUSCARWriter.wrapCharacters(latin, width: width))
                // A combining accent is no character of its own: by characters, and still the same lines.
                let combining = ascii.replacingOccurrences(of: "A", with: "A\u{301}")
                #expect(CUSCARWriter.wrap(combining, width: width).map { $0.replacingOccurrences(of: "A\u{301}", with: "Ä") }
                        == CUSCARWriter.wrap(latin, width: width))
                // A name written as it is, without wrapping, only where wrapping would give it back whole.
                #expect(CUSCARWriter.fitsOneLine(ascii, width: width) == (CUSCARWriter.wrap(ascii, width: width) == [ascii]),
                        "\(ascii.debugDescription) at \(width)")
                #expect(!CUSCARWriter.fitsOneLine(latin, width: width) || latin == ascii)
            }
            #expect(CUSCARWriter.addressParts(ascii) == ascii.components(separatedBy: ", "))
            #expect(CUSCARWriter.addressParts(latin) == latin.components(separatedBy: ", "))
        }
        // Trimming decoded values: Foundation's whitespace set, scalar by scalar.
        for text in ["  A B ", "\u{A0}MÜLLER\u{3000}", "\t\u{200B}X", " \u{301}X", "X \u{301}", "", " ", "ÄÖ"] {
            #expect(SegmentFields.trimmingWhitespace(text) == text.trimmingCharacters(in: .whitespaces), "\(text.debugDescription)")
        }
        // Weights: the exact fast path is the Double strtod gives.
        for _ in 0..<20_000 {
            let digits = String(random.next() % 1_000_000_000_000_000)
            let cut = Int(random.next() % UInt64(digits.count + 1))
            let text = (random.next() % 5 == 0 ? "-" : "") + digits.prefix(cut) + "." + digits.dropFirst(cut)
            let value = Array(text.utf8).withUnsafeBufferPointer { EDIFACTNumbers.decimal($0, decimalMark: UInt8(ascii: ",")) }
            #expect(value?.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
    }

    @Test("what the writer cannot carry is refused, not sent malformed")
    func writerRefusals() throws {
        var noGoods = Self.notesManifest
        noGoods.consignments[0].goods = []
        #expect(throws: ManifestMappingError.self) { try Self.writer(.d95B).interchange([noGoods], reference: "R1", at: Self.at) }
        var tooLong = Self.notesManifest
        tooLong.transport.meansId = "ABCDEFGHIJKL"  // C222 8213 is an..9
        let error = try #require(throws: ManifestMappingError.self) { try Self.writer(.d96A).interchange([tooLong], reference: "R1", at: Self.at) }
        #expect(error.code == "manifest.not-writable")
        var chinese = Self.notesManifest
        chinese.consignments[0].parties[0].name = "重庆"
        #expect(throws: ManifestMappingError.self) { try Self.writer(.d95B).interchange([chinese], reference: "R1", at: Self.at) }
        let unoy = CUSCARWriter(directory: .d95B, sender: ["SWGATEWAY"], recipient: ["CQCUSTOMS"], syntaxIdentifier: .UNOY, syntaxVersion: 4)
        #expect(try CUSCARMapping.manifests(from: unoy.interchange([chinese], reference: "R1", at: Self.at)).map { try $0.get() } == [chinese])
    }

    @Test("pydifact reads the written CUSCAR with the same segments", arguments: CUSCARDirectory.allCases)
    func pydifact(_ d: CUSCARDirectory) throws {
        try Pydifact.expectSameReading(try Self.writer(d).interchange(Self.models, reference: "SWG0000003", at: Self.at))
    }

    // MARK: - Robustness

    @Test("random byte mutations of valid CUSCARs never crash the mapper")
    func mutations() throws {
        let seeds = [
            try Self.bytes(Self.engineFixtures.appendingPathComponent("cuscar-d95b.edi")),
            try Self.bytes(Self.engineFixtures.appendingPathComponent("cuscar-d96a.edi")),
            try Self.bytes(Self.fixtures.appendingPathComponent("realistic-d96a.edi")),
        ]
        var mapped = 0, refused = 0
        for bytes in mutated(seeds, count: 3000, state: 0xC05C_A12) {
            for mapping in CUSCARMapping.map(bytes) {
                if mapping.manifest != nil { mapped += 1 } else { refused += 1; #expect(!mapping.errors.isEmpty) }
            }
        }
        #expect(mapped > 0 && refused > 0)
    }
}
