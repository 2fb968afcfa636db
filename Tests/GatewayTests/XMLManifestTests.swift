import Foundation
import Testing
import SplitMix

@testable import Gateway

// The project's XML manifest (schemas/manifest-1.xsd) and the agencies' XML copies: schema validation with
// libxml2, XML → model with its errors named by line and element, hostile XML refused, model → XML for the
// full manifest and the inspection-and-quarantine and border-control copies, each checked by its schema
// (and by `xmllint --schema` when installed: `apt-get install -y libxml2-utils`).

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let samplePath = packageRoot.appendingPathComponent("Tests/GatewayTests/Fixtures/manifest/sample-manifest.xml").path
private let sample: String = (try? String(contentsOfFile: samplePath, encoding: .utf8)) ?? ""

/// The model the sample must map to, value for value (weights converted the way the mapping says: t × 1000,
/// lb × 0.45359237).
private let expectedSample = Manifest(
    documentNumber: "CQ240517-001", function: .original,
    issuedAt: Date(timeIntervalSince1970: 1_715_905_800), sender: "CARRIERX",
    transport: TransportMeans(
        mode: .inlandWaterway, voyage: "YZ2405E", meansId: "BBCU7", meansName: "Min Sheng 7 民生七号",
        nationality: "CN", carrier: "MSJY", departurePort: "CNSHA", arrivalPort: "CNCKG",
        departure: Date(timeIntervalSince1970: 1_716_012_000), arrival: Date(timeIntervalSince1970: 1_716_791_400),
        crewCount: 14, passengerCount: 0),
    containers: [
        Container(number: "MSCU1234566", sizeType: "45G1", seals: ["SH0098765", "CU4411"], isFull: true, grossWeightKg: 24650.5),
        Container(number: "CSQU3054383", sizeType: "22G1", seals: ["SH0098766"], isFull: true, grossWeightKg: 18.2 * 1000),
        Container(number: "TGHU8765436", sizeType: "22R1", seals: [], isFull: true, grossWeightKg: 22000 * 0.45359237),
        Container(number: "COSU4001201", sizeType: "45G1", seals: [], isFull: false, grossWeightKg: nil),
    ],
    consignments: [
        Consignment(
            billOfLading: "MSJYSHA240001", loadingPort: "CNSHA", dischargePort: "CNCKG",
            parties: [
                Party(role: .shipper, id: "913100001234567890", name: "Shanghai Parts & Tools Co., Ltd.",
                      address: "88 Yangshupu Road, Shanghai", country: "CN"),
                Party(role: .consignee, name: "重庆长江机电有限公司", address: "1 Guoyuan Port, Chongqing", country: "CN"),
                Party(role: .notify, name: "\"Same as consignee\""),
            ],
            goods: [
                GoodsItem(sequence: 1, packages: 120, packageType: "CT", description: "Hand tools (spanners <10 mm)",
                          grossWeightKg: 12000, hsCode: "820411", containers: [ContainerShare(container: "MSCU1234566", packages: 120)]),
                GoodsItem(sequence: 2, packages: 30, packageType: "PK", description: "Electric motors",
                          grossWeightKg: 9.5 * 1000, hsCode: "8501520000",
                          containers: [ContainerShare(container: "MSCU1234566", packages: 20),
                                       ContainerShare(container: "CSQU3054383", packages: 10)]),
            ]),
        Consignment(
            billOfLading: "MSJYSHA240002", masterBillOfLading: "MSJYSHA24M001", loadingPort: "CNSHA", dischargePort: "CNCKG",
            parties: [
                Party(role: .shipper, name: "Ningbo Coatings Ltd", country: "CN"),
                Party(role: .freightForwarder, id: "FWD-0042", name: "Yangtze Forwarding"),
            ],
            goods: [
                GoodsItem(sequence: 1, packages: 40, packageType: "1A", description: "Paint, flammable", grossWeightKg: 7800,
                          hsCode: "320890", dangerousGoods: [DangerousGoods(unNumber: "1263", hazardClass: "3")],
                          containers: [ContainerShare(container: "CSQU3054383", packages: 40)]),
            ]),
        Consignment(
            billOfLading: "MSJYSHA240003", loadingPort: "CNSHA", dischargePort: "CNCKG",
            parties: [Party(role: .consignee, name: "Chongqing Cold Chain")],
            goods: [
                GoodsItem(sequence: 1, packages: 900, packageType: "CT", description: "Frozen shrimp",
                          grossWeightKg: 19800 * 0.45359237, hsCode: "030617",
                          containers: [ContainerShare(container: "TGHU8765436")]),
            ]),
    ])

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The sample with one exact substring replaced (which must occur exactly once).
private func sample(replacing old: String, with new: String) -> String {
    precondition(sample.components(separatedBy: old).count == 2, "\(old) must occur once in the sample")
    return sample.replacingOccurrences(of: old, with: new)
}

/// 1-based line of the first line of `text` containing `needle`.
private func line(of needle: String, in text: String) -> Int? {
    text.components(separatedBy: "\n").firstIndex { $0.contains(needle) }.map { $0 + 1 }
}

private func errors(_ text: String) -> [ManifestMappingError] {
    switch XMLManifestMapping.manifest(from: bytes(text)) {
    case .success: return []
    case .failure(let failure): return failure.errors
    }
}

private let xmllintPath: String? = ["/usr/bin/xmllint", "/usr/local/bin/xmllint"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// `xmllint --noout --nonet --schema <schema> <document>`: (valid, stderr).
private func xmllint(schema: ManifestSchema, document: [UInt8]) throws -> (Bool, String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swg-xmllint-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let documentURL = directory.appendingPathComponent("document.xml")
    try Data(document).write(to: documentURL)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: xmllintPath!)
    process.arguments = ["--noout", "--nonet", "--schema", packageRoot.appendingPathComponent("schemas/\(schema.fileName)").path,
                         documentURL.path]
    let errorPipe = Pipe()
    process.standardError = errorPipe
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let output = errorPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus == 0, String(decoding: output, as: UTF8.self))
}

@Suite("XML manifest: schema, mapping, agency copies")
struct XMLManifestTests {
    // MARK: Schemas

    @Test("embedded schemas equal the files in schemas/, and each compiles")
    func embeddedSchemas() throws {
        for schema in ManifestSchema.allCases {
            let file = try Data(contentsOf: packageRoot.appendingPathComponent("schemas/\(schema.fileName)"))
            #expect(Array(schema.text.utf8) == [UInt8](file), "\(schema.fileName): regenerate ManifestSchemas.swift")
            #expect(schema.text.contains("targetNamespace=\"\(schema.namespace)\""))
            _ = try XMLSchemaValidator.shipped(schema)
            // Loading from a path (an explicit deployment choice) gives the same schema.
            let fromFile = try XMLSchemaValidator(contentsOf: packageRoot.appendingPathComponent("schemas/\(schema.fileName)").path)
            #expect(fromFile.name == schema.fileName)
        }
    }

    @Test("a schema that imports or includes another file is refused before libxml2 could fetch it")
    func schemaImportsRefused() {
        for directive in [#"<xs:import namespace="urn:x" schemaLocation="http://192.0.2.1/x.xsd"/>"#,
                          #"<xs:include schemaLocation="file:///etc/passwd"/>"#] {
            let schema = """
                <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">\(directive)\
                <xs:element name="a" type="xs:string"/></xs:schema>
                """
            #expect(throws: XMLSchemaError.self) { try XMLSchemaValidator(schema: bytes(schema), name: "evil.xsd") }
            do {
                _ = try XMLSchemaValidator(schema: bytes(schema), name: "evil.xsd")
            } catch {
                #expect(error.kind == .badSchema)
                #expect(error.message.contains("self-contained"), "\(error)")
            }
        }
        #expect(throws: XMLSchemaError.self) { try XMLSchemaValidator(schema: bytes("<xs:schema"), name: "broken.xsd") }
    }

    // MARK: XML → model

    @Test("the sample manifest maps to exactly the expected model")
    func sampleMaps() throws {
        #expect(!sample.isEmpty, "fixture missing at \(samplePath)")
        let manifest = try XMLManifestMapping.manifest(from: bytes(sample)).get()
        #expect(manifest.transport == expectedSample.transport)
        #expect(manifest.containers == expectedSample.containers)
        for (got, want) in zip(manifest.consignments, expectedSample.consignments) { #expect(got == want) }
        #expect(manifest == expectedSample)
    }

    @Test("a signed manifest's ds:Signature (last child) is skipped; other xmldsig elements or positions are refused")
    func signatureElement() throws {
        let signature = #"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature>"#
        let signed = sample(replacing: "</Consignments>\n</Manifest>", with: "</Consignments>\n  \(signature)\n</Manifest>")
        #expect(try XMLManifestMapping.manifest(from: bytes(signed)).get() == expectedSample)

        let other = sample(replacing: "</Consignments>\n</Manifest>",
                           with: "</Consignments>\n  <ds:Object xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>\n</Manifest>")
        let otherErrors = errors(other)
        #expect(otherErrors.map(\.code) == ["manifest.xml-schema"])
        #expect(otherErrors.first?.location.contains("/Manifest/Object") == true, "\(otherErrors)")

        let early = sample(replacing: "  <Containers>\n", with: "  \(signature)\n  <Containers>\n")
        #expect(errors(early).map(\.code) == ["manifest.xml-schema"])
    }

    struct Violation: Sendable, CustomTestStringConvertible {
        var label: String
        var old: String
        var new: String
        /// Where the error must point: the line holding this text in the changed document.
        var lineOf: String
        var path: String
        var consignment: String?
        var messageFragment: String
        var testDescription: String { label }
    }

    static let violations: [Violation] = [
        .init(label: "missing required element", old: "    <Voyage>YZ2405E</Voyage>\n", new: "",
              // libxml2 reports a missing element at the element found in its place.
              lineOf: "<MeansId>", path: "/Manifest/Transport/MeansId", messageFragment: "Expected is ( {urn:swg:manifest:1}Voyage )"),
        .init(label: "unexpected element", old: "<Sender>CARRIERX</Sender>", new: "<Sender>CARRIERX</Sender><Agent>X</Agent>",
              lineOf: "<Agent>", path: "/Manifest/Agent", messageFragment: "not expected"),
        .init(label: "container number pattern", old: "<Number>COSU4001201</Number>", new: "<Number>COSU40012</Number>",
              lineOf: "COSU40012", path: "/Manifest/Containers/Container[4]/Number", messageFragment: "pattern"),
        .init(label: "function enumeration", old: "<Function>original</Function>", new: "<Function>9</Function>",
              lineOf: "<Function>", path: "/Manifest/Function", messageFragment: "enumeration"),
        .init(label: "HS code pattern", old: "<HSCode>320890</HSCode>", new: "<HSCode>3208.90</HSCode>",
              lineOf: "3208.90", path: "/Manifest/Consignments/Consignment[2]/GoodsItem/HSCode",
              consignment: "MSJYSHA240002", messageFragment: "pattern"),
        .init(label: "UN/LOCODE pattern", old: "<ArrivalPort>CNCKG</ArrivalPort>", new: "<ArrivalPort>CN CKG</ArrivalPort>",
              lineOf: "CN CKG", path: "/Manifest/Transport/ArrivalPort", messageFragment: "pattern"),
        .init(label: "UN number pattern", old: "<UNNumber>1263</UNNumber>", new: "<UNNumber>UN1263</UNNumber>",
              lineOf: "UN1263", path: "/Manifest/Consignments/Consignment[2]/GoodsItem/DangerousGoods/UNNumber",
              consignment: "MSJYSHA240002", messageFragment: "pattern"),
        .init(label: "missing unit attribute", old: #"<GrossWeight unit="kg">7800</GrossWeight>"#, new: "<GrossWeight>7800</GrossWeight>",
              lineOf: "<GrossWeight>7800", path: "/Manifest/Consignments/Consignment[2]/GoodsItem/GrossWeight",
              consignment: "MSJYSHA240002", messageFragment: "unit"),
        .init(label: "unknown weight unit", old: #"<GrossWeight unit="kg">7800</GrossWeight>"#, new: #"<GrossWeight unit="oz">7800</GrossWeight>"#,
              lineOf: "unit=\"oz\"", path: "/Manifest/Consignments/Consignment[2]/GoodsItem/GrossWeight/@unit",
              consignment: "MSJYSHA240002", messageFragment: "oz"),
        .init(label: "party role enumeration", old: #"<Party role="freightForwarder">"#, new: #"<Party role="broker">"#,
              lineOf: "broker", path: "/Manifest/Consignments/Consignment[2]/Party[2]/@role",
              consignment: "MSJYSHA240002", messageFragment: "broker"),
        .init(label: "time without zone", old: "<DepartureTime>2024-05-18T06:00:00Z</DepartureTime>",
              new: "<DepartureTime>2024-05-18T06:00:00</DepartureTime>",
              lineOf: "<DepartureTime>", path: "/Manifest/Transport/DepartureTime", messageFragment: "pattern"),
        .init(label: "negative count", old: "<CrewCount>14</CrewCount>", new: "<CrewCount>-1</CrewCount>",
              lineOf: "<CrewCount>", path: "/Manifest/Transport/CrewCount", messageFragment: "-1"),
        .init(label: "description too long", old: "<Description>Frozen shrimp</Description>",
              new: "<Description>\(String(repeating: "x", count: 9000))</Description>",
              lineOf: "<Description>xxx", path: "/Manifest/Consignments/Consignment[3]/GoodsItem/Description",
              consignment: "MSJYSHA240003", messageFragment: "length"),
        .init(label: "wrong namespace", old: #"xmlns="urn:swg:manifest:1""#, new: #"xmlns="urn:swg:manifest:2""#,
              lineOf: "<Manifest ", path: "/Manifest", messageFragment: "No matching global declaration"),
    ]

    @Test("each schema violation is a manifest.xml-schema error naming line, element and consignment", arguments: violations)
    func schemaViolation(_ violation: Violation) throws {
        let text = sample(replacing: violation.old, with: violation.new)
        let found = errors(text)
        #expect(found.count == 1, "\(found)")
        let error = try #require(found.first)
        let expectedLine = try #require(line(of: violation.lineOf, in: text))
        #expect(error.code == "manifest.xml-schema")
        #expect(error.location == "line \(expectedLine), \(violation.path)", "\(error)")
        #expect(error.consignment == violation.consignment, "\(error)")
        #expect(error.message.contains(violation.messageFragment), "\(error)")
    }

    /// The gateway's own copies are first validated as they are read, without a tree (`streamValidates`), and only
    /// parsed into one, without the whitespace between their elements (`XML_PARSE_NOBLANKS`), when that does not
    /// pass: every verdict, line and element path must stay the same, including for whitespace inside a leaf, which
    /// is content, and the streaming check must pass exactly the documents the tree path finds valid.
    @Test("a document validated as a copy (no whitespace between elements, a compact tree) gets the same violations, lines and paths",
          arguments: violations.map { ($0.old, $0.new) } + [
              ("<Voyage>YZ2405E</Voyage>", "<Voyage> </Voyage>"),
              ("<Voyage>YZ2405E</Voyage>", "<Voyage>\n    </Voyage>"),
              ("<Voyage>YZ2405E</Voyage>", "<Voyage>  YZ2405E</Voyage>"),
              ("<Consignments>", "<Consignments>\n  text between elements\n"),
              ("<Consignments>", "<Consignments>\n  <!-- a comment -->\n"),
          ])
    func generatedSameVerdict(_ old: String, _ new: String) throws {
        let text = sample(replacing: old, with: new)
        #expect(text != sample)
        let validator = try XMLSchemaValidator.shipped(.manifest)
        let withBlanks = try validator.validate(bytes(text))
        #expect(try validator.validate(bytes(text), generated: true) == withBlanks)
        #expect(validator.streamValidates(bytes(text)) == withBlanks.isEmpty, "\(withBlanks)")
    }

    @Test("the streaming check of a copy passes the valid sample and nothing broken, entity-laden or empty")
    func streamingCheckRefuses() throws {
        let validator = try XMLSchemaValidator.shipped(.manifest)
        #expect(validator.streamValidates(bytes(sample)))
        let broken = [
            "",
            String(sample.dropLast(40)),
            sample.replacingOccurrences(of: "<Voyage>YZ2405E</Voyage>", with: "<Voyage>&voyage;</Voyage>"),
            sample.replacingOccurrences(of: "<Manifest ", with: "<!DOCTYPE Manifest [<!ENTITY voyage \"YZ2405E\">]>\n<Manifest ")
                .replacingOccurrences(of: "<Voyage>YZ2405E</Voyage>", with: "<Voyage>&voyage;</Voyage>"),
        ]
        for text in broken {
            #expect(!validator.streamValidates(bytes(text)), "\(text.prefix(120))")
            // And the full check explains it instead of passing it.
            let verdict = Result { () throws(XMLSchemaError) in try validator.validate(bytes(text), generated: true) }
            switch verdict {
            case .success(let violations): #expect(!violations.isEmpty)
            case .failure: break
            }
        }
    }

    @Test("the validator collects several violations at once, with lines, bounded")
    func manyViolations() throws {
        let text = sample.replacingOccurrences(of: "<Status>full</Status>", with: "<Status>loaded</Status>")
        let found = try XMLSchemaValidator.shipped(.manifest).validate(bytes(text))
        #expect(found.count == 3, "\(found)")
        #expect(found.allSatisfy { $0.line != nil && $0.path?.hasSuffix("/Status") == true })
        let flood = "<Manifest xmlns=\"urn:swg:manifest:1\">" + String(repeating: "<X/>", count: 1000) + "</Manifest>"
        let many = try XMLSchemaValidator.shipped(.manifest).validate(bytes(flood))
        #expect(many.count <= XMLSchemaValidator.maxViolations + 1)
    }

    @Test("bad container check digit: manifest.container-check-digit at the Number")
    func checkDigit() throws {
        let text = sample(replacing: "<Number>COSU4001201</Number>", with: "<Number>COSU4001202</Number>")
        let found = errors(text)
        #expect(found.count == 1, "\(found)")
        let error = try #require(found.first)
        #expect(error.code == "manifest.container-check-digit")
        #expect(error.consignment == nil)
        #expect(error.location == "line \(line(of: "COSU4001202", in: text)!), /Manifest/Containers/Container[4]/Number")
        #expect(error.message.contains("expected 1"), "\(error)")
    }

    @Test("goods in an undeclared container: manifest.unknown-container naming the bill of lading")
    func unknownContainer() throws {
        let text = sample(replacing: "<InContainer>TGHU8765436</InContainer>", with: "<InContainer>CXDU1122339</InContainer>")
        let found = errors(text)
        #expect(found.count == 1, "\(found)")
        let error = try #require(found.first)
        #expect(error.code == "manifest.unknown-container")
        #expect(error.consignment == "MSJYSHA240003")
        #expect(error.location == "line \(line(of: "CXDU1122339", in: text)!), /Manifest/Consignments/Consignment[3]/GoodsItem/InContainer")
    }

    @Test("a bill of lading filed twice: manifest.duplicate-bill-of-lading at the second one")
    func duplicateBill() throws {
        let text = sample(replacing: "<BillOfLading>MSJYSHA240003</BillOfLading>", with: "<BillOfLading>MSJYSHA240001</BillOfLading>")
        let found = errors(text)
        #expect(found.count == 1, "\(found)")
        let error = try #require(found.first)
        #expect(error.code == "manifest.duplicate-bill-of-lading")
        #expect(error.consignment == "MSJYSHA240001")
        let secondLine = text.components(separatedBy: "\n").indices.filter {
            text.components(separatedBy: "\n")[$0].contains("<BillOfLading>MSJYSHA240001")
        }.last.map { $0 + 1 }
        #expect(error.location == "line \(secondLine!), /Manifest/Consignments/Consignment[3]/BillOfLading")
    }

    @Test("a container declared twice and a goods item numbered twice are refused; all errors come together")
    func duplicatesTogether() throws {
        var text = sample(replacing: "<Number>COSU4001201</Number>", with: "<Number>MSCU1234566</Number>")
        text = text.replacingOccurrences(of: "<Sequence>2</Sequence>", with: "<Sequence>1</Sequence>")
        let found = errors(text)
        #expect(Set(found.map(\.code)) == ["manifest.duplicate-container", "manifest.duplicate-goods-item"], "\(found)")
        #expect(found.first { $0.code == "manifest.duplicate-goods-item" }?.consignment == "MSJYSHA240001")
        #expect(found.first { $0.code == "manifest.duplicate-container" }?.location.hasSuffix("/Manifest/Containers/Container[4]/Number") == true)
        // The library keeps goods items by number: "01" is item 1 again (it broke the chunk's filing before).
        let zeroPadded = errors(sample(replacing: "<Sequence>2</Sequence>", with: "<Sequence>01</Sequence>"))
        #expect(zeroPadded.map(\.code) == ["manifest.duplicate-goods-item"], "\(zeroPadded)")
    }

    // MARK: Hostile XML

    @Test("hostile XML is refused with a clear error, nothing resolved or read")
    func hostile() {
        let external = """
            <?xml version="1.0"?>
            <!DOCTYPE Manifest [<!ENTITY x SYSTEM "file:///etc/passwd">]>
            <Manifest xmlns="urn:swg:manifest:1"><DocumentNumber>&x;</DocumentNumber></Manifest>
            """
        var laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol0 \"lol\">"
        for level in 1...9 { laughs += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">" }
        laughs += "]>\n<Manifest xmlns=\"urn:swg:manifest:1\"><DocumentNumber>&lol9;</DocumentNumber></Manifest>"
        let parameterEntity = """
            <?xml version="1.0"?>
            <!DOCTYPE m [<!ENTITY % p SYSTEM "http://192.0.2.1/evil.dtd"> %p;]>
            <Manifest xmlns="urn:swg:manifest:1"/>
            """
        for (label, text) in [("external entity", external), ("billion laughs", laughs), ("parameter entity", parameterEntity)] {
            let started = Date()
            let found = errors(text)
            #expect(Date().timeIntervalSince(started) < 2, "\(label) took too long")
            #expect(found.map(\.code) == ["manifest.xml-unsafe"], "\(label): \(found)")
            #expect(found.first?.message.contains("DOCTYPE") == true, "\(label): \(found)")
            #expect(!found.description.contains("root:"), "\(label): file content leaked")
        }
        let huge = "<Manifest xmlns=\"urn:swg:manifest:1\"><DocumentNumber>" + String(repeating: "A", count: 11_000_000)
            + "</DocumentNumber></Manifest>"
        let started = Date()
        let hugeErrors = errors(huge)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(!hugeErrors.isEmpty && hugeErrors.allSatisfy { $0.code == "manifest.xml-schema" }, "\(hugeErrors.map(\.code))")
        #expect(hugeErrors.allSatisfy { $0.message.count <= 401 }, "messages quote the value whole")
        #expect(hugeErrors.contains { $0.message.contains("maxLength") })
        #expect(errors("<Manifest xmlns=\"urn:swg:manifest:1\"><DocumentNumber>1</Manifest>").map(\.code) == ["manifest.xml-malformed"])
        #expect(errors("").map(\.code) == ["manifest.xml-malformed"])
        #expect(errors("\u{0}\u{1}garbage").map(\.code) == ["manifest.xml-malformed"])
        let deep = String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)
        #expect(errors(deep).map(\.code) == ["manifest.xml-malformed"])
        #expect(throws: XMLSchemaError.self) {
            _ = try XMLSchemaValidator.shipped(.manifest).validate(bytes(sample), maxBytes: 100)
        }
    }

    // MARK: Model → XML

    @Test("the full manifest written is valid, deterministic, and reads back equal")
    func roundTrip() throws {
        let written = try XMLManifestWriter.manifest(expectedSample)
        #expect(try XMLSchemaValidator.shipped(.manifest).validate(written).isEmpty)
        #expect(try XMLManifestWriter.manifest(expectedSample) == written)
        #expect(try XMLManifestMapping.manifest(from: written).get() == expectedSample)
        // And the sample → model → XML → model is stable.
        let again = try XMLManifestMapping.manifest(from: XMLManifestWriter.manifest(
            XMLManifestMapping.manifest(from: bytes(sample)).get())).get()
        #expect(again == expectedSample)
        let withID = String(decoding: try XMLManifestWriter.manifest(expectedSample, id: "m1"), as: UTF8.self)
        #expect(withID.contains(#"<Manifest Id="m1" xmlns="urn:swg:manifest:1">"#))
    }

    @Test("escaping: &, <, >, quotes, CR, tabs and non-ASCII survive the round trip")
    func escaping() throws {
        var model = expectedSample
        model.transport.meansName = "Ship \"A\" & <B> 'C' 长江 ü"
        model.consignments[0].parties[0].name = "Tom & Jerry <Ltd> \"quoted\""
        model.consignments[0].parties[0].address = "Line 1\r\nLine 2\tTabbed ]]> end"
        model.consignments[0].goods[0].description = "a < b && c > d — ½"
        let written = try XMLManifestWriter.manifest(model)
        let text = String(decoding: written, as: UTF8.self)
        #expect(text.contains("Tom &amp; Jerry &lt;Ltd&gt; \"quoted\""))
        #expect(text.contains("Line 1&#13;\nLine 2\tTabbed ]]&gt; end"))
        #expect(text.contains("长江"))
        #expect(try XMLManifestMapping.manifest(from: written).get() == model)
    }

    @Test("a model the format cannot carry fails at the writer, by element")
    func writerRefuses() {
        var negative = expectedSample
        negative.containers[0].grossWeightKg = -5
        var control = expectedSample
        control.consignments[0].goods[0].description = "bell \u{7}"
        var badNumber = expectedSample
        badNumber.containers[0].number = "not a box"
        for model in [negative, badNumber] {
            #expect(throws: XMLManifestWriter.Failure.self) { try XMLManifestWriter.manifest(model) }
        }
        do {
            _ = try XMLManifestWriter.manifest(negative)
        } catch {
            #expect(error.violations.first?.path == "/Manifest/Containers/Container[1]/GrossWeight", "\(error)")
        }
        #expect(throws: XMLManifestWriter.Failure.self) { try XMLManifestWriter.manifest(control) }
        #expect(throws: XMLManifestWriter.Failure.self) { try XMLManifestWriter.ciqCopy(control, generatedAt: Date()) }
    }

    static let generated = Date(timeIntervalSince1970: 1_716_000_000.25)

    @Test("the CIQ copy holds the transport summary and only the selected consignments and their containers")
    func ciqCopy() throws {
        var selected = expectedSample
        selected.consignments = [expectedSample.consignments[1]]
        let written = try XMLManifestWriter.ciqCopy(selected, generatedAt: Self.generated)
        #expect(try XMLSchemaValidator.shipped(.ciqManifest).validate(written).isEmpty)
        let expected = """
            <?xml version="1.0" encoding="UTF-8"?>
            <CIQManifest xmlns="urn:swg:ciq:1">
              <Header>
                <SourceDocument>CQ240517-001</SourceDocument>
                <Function>original</Function>
                <IssueTime>2024-05-17T00:30:00Z</IssueTime>
                <Sender>CARRIERX</Sender>
                <GeneratedAt>2024-05-18T02:40:00.250Z</GeneratedAt>
              </Header>
              <Transport>
                <Mode>inlandWaterway</Mode>
                <Voyage>YZ2405E</Voyage>
                <MeansId>BBCU7</MeansId>
                <MeansName>Min Sheng 7 民生七号</MeansName>
                <Nationality>CN</Nationality>
                <Carrier>MSJY</Carrier>
                <DeparturePort>CNSHA</DeparturePort>
                <ArrivalPort>CNCKG</ArrivalPort>
                <DepartureTime>2024-05-18T06:00:00Z</DepartureTime>
                <ArrivalTime>2024-05-27T06:30:00Z</ArrivalTime>
              </Transport>
              <Containers>
                <Container>
                  <Number>CSQU3054383</Number>
                  <SizeType>22G1</SizeType>
                  <Seal>SH0098766</Seal>
                  <Status>full</Status>
                  <GrossWeight unit="kg">18200</GrossWeight>
                </Container>
              </Containers>
              <Consignments>
                <Consignment>
                  <BillOfLading>MSJYSHA240002</BillOfLading>
                  <MasterBillOfLading>MSJYSHA24M001</MasterBillOfLading>
                  <LoadingPort>CNSHA</LoadingPort>
                  <DischargePort>CNCKG</DischargePort>
                  <Party role="shipper">
                    <Name>Ningbo Coatings Ltd</Name>
                    <Country>CN</Country>
                  </Party>
                  <Party role="freightForwarder">
                    <Id>FWD-0042</Id>
                    <Name>Yangtze Forwarding</Name>
                  </Party>
                  <GoodsItem>
                    <Sequence>1</Sequence>
                    <Packages>40</Packages>
                    <PackageType>1A</PackageType>
                    <Description>Paint, flammable</Description>
                    <GrossWeight unit="kg">7800</GrossWeight>
                    <HSCode>320890</HSCode>
                    <DangerousGoods>
                      <UNNumber>1263</UNNumber>
                      <Class>3</Class>
                    </DangerousGoods>
                    <InContainer packages="40">CSQU3054383</InContainer>
                  </GoodsItem>
                </Consignment>
              </Consignments>
            </CIQManifest>

            """
        #expect(String(decoding: written, as: UTF8.self) == compact(expected))
        // Nothing of the other consignments, nor crew counts.
        let text = String(decoding: try XMLManifestWriter.ciqCopy(expectedSample, generatedAt: Self.generated), as: UTF8.self)
        #expect(!text.contains("CrewCount"))
        #expect(!text.contains("COSU4001201"), "an empty box nobody's goods are in is not listed")
        #expect(text.components(separatedBy: "<Consignment>").count == 4)
    }

    @Test("the border copy holds means, voyage, ports, times, people and counts only")
    func borderCopy() throws {
        let written = try XMLManifestWriter.borderCopy(expectedSample, generatedAt: Self.generated)
        #expect(try XMLSchemaValidator.shipped(.border).validate(written).isEmpty)
        let expected = """
            <?xml version="1.0" encoding="UTF-8"?>
            <BorderManifest xmlns="urn:swg:border:1">
              <Header>
                <SourceDocument>CQ240517-001</SourceDocument>
                <Function>original</Function>
                <IssueTime>2024-05-17T00:30:00Z</IssueTime>
                <Sender>CARRIERX</Sender>
                <GeneratedAt>2024-05-18T02:40:00.250Z</GeneratedAt>
              </Header>
              <Transport>
                <Mode>inlandWaterway</Mode>
                <Voyage>YZ2405E</Voyage>
                <MeansId>BBCU7</MeansId>
                <MeansName>Min Sheng 7 民生七号</MeansName>
                <Nationality>CN</Nationality>
                <DeparturePort>CNSHA</DeparturePort>
                <ArrivalPort>CNCKG</ArrivalPort>
                <DepartureTime>2024-05-18T06:00:00Z</DepartureTime>
                <ArrivalTime>2024-05-27T06:30:00Z</ArrivalTime>
                <CrewCount>14</CrewCount>
                <PassengerCount>0</PassengerCount>
              </Transport>
              <ConsignmentCount>3</ConsignmentCount>
              <ContainerCount>4</ContainerCount>
            </BorderManifest>

            """
        #expect(String(decoding: written, as: UTF8.self) == compact(expected))
    }

    @Test("xmllint --schema agrees with the gateway on the sample, the writers' output and a broken file",
          .enabled(if: xmllintPath != nil, "xmllint not installed (apt-get install -y libxml2-utils)"))
    func xmllintDifferential() throws {
        let cases: [(ManifestSchema, [UInt8], Bool)] = [
            (.manifest, bytes(sample), true),
            (.manifest, try XMLManifestWriter.manifest(expectedSample), true),
            (.ciqManifest, try XMLManifestWriter.ciqCopy(expectedSample, generatedAt: Self.generated), true),
            (.border, try XMLManifestWriter.borderCopy(expectedSample, generatedAt: Self.generated), true),
            (.manifest, bytes(sample(replacing: "<HSCode>320890</HSCode>", with: "<HSCode>32A</HSCode>")), false),
            (.manifest, bytes(sample(replacing: "<Function>original</Function>", with: "")), false),
        ]
        for (schema, document, valid) in cases {
            let (xmllintValid, output) = try xmllint(schema: schema, document: document)
            let ours = try XMLSchemaValidator.shipped(schema).validate(document)
            #expect(xmllintValid == valid, "\(schema): \(output)")
            #expect(ours.isEmpty == valid, "\(schema): \(ours)")
        }
    }

    // MARK: Pieces

    @Test("timestamps: zones, fractions, and UTC output")
    func timestamps() {
        #expect(XMLTimestamp.parse("2024-05-17T08:30:00+08:00") == Date(timeIntervalSince1970: 1_715_905_800))
        #expect(XMLTimestamp.parse("2024-05-16T20:30:00-04:00") == Date(timeIntervalSince1970: 1_715_905_800))
        #expect(XMLTimestamp.parse("1970-01-01T00:00:00.5Z") == Date(timeIntervalSince1970: 0.5))
        #expect(XMLTimestamp.parse("2024-02-29T00:00:00Z") == Date(timeIntervalSince1970: 1_709_164_800))
        for bad in ["2024-05-17T08:30:00", "2024-05-17 08:30:00Z", "2024-13-01T00:00:00Z", "", "2024-05-17T08:30:00+0800"] {
            #expect(XMLTimestamp.parse(bad) == nil, "\(bad)")
        }
        #expect(XMLTimestamp.format(Date(timeIntervalSince1970: 1_715_905_800)) == "2024-05-17T00:30:00Z")
        #expect(XMLTimestamp.format(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500Z")
        let date = Date(timeIntervalSince1970: 1_716_000_000.123)
        #expect(XMLTimestamp.parse(XMLTimestamp.format(date)).map { abs($0.timeIntervalSince(date)) < 0.0005 } == true)
    }

    @Test("weights are plain decimals that read back to the same Double")
    func decimals() {
        #expect(XMLManifestWriter.decimal(12000) == "12000")
        #expect(XMLManifestWriter.decimal(24650.5) == "24650.5")
        #expect(XMLManifestWriter.decimal(0) == "0")
        #expect(XMLManifestWriter.decimal(1.2345e-5) == "0.000012345")
        #expect(XMLManifestWriter.decimal(1e16) == "10000000000000000")
        for value in [22000 * 0.45359237, 0.1, 123456.789, 1e-7, 9.999999999e11] {
            #expect(Double(XMLManifestWriter.decimal(value)) == value)
        }
        // Whole, fractional, tiny and huge values: plain digits with no leading or trailing zero to spare, and the
        // same Double read back; where 20 decimals cannot hold it, the cut is less than one in the 20th decimal.
        var random = SplitMix64(state: 6)
        let plain = try! Regex("^(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?$")
        for _ in 0..<20_000 {
            let value = switch random.int(0...3) {
            case 0: Double(random.int(1...99_999))
            case 1: Double(random.int(1...9_999_999)) / 1000
            case 2: Double(bitPattern: UInt64(random.int(0x3BC0_0000_0000_0000...0x4340_0000_0000_0000)))
            default: Double(bitPattern: UInt64(random.int(0x3000_0000_0000_0000...0x4700_0000_0000_0000)))
            }
            let text = XMLManifestWriter.decimal(value)
            #expect(text.wholeMatch(of: plain) != nil, "\(value): \(text)")
            let back = Double(text) ?? -1
            #expect(value >= 1e-3 ? back == value : back <= value && value - back < 1e-20, "\(value): \(text)")
        }
    }

    @Test("one shared schema validates concurrently")
    func concurrentValidation() async throws {
        let document = bytes(sample)
        let broken = bytes(sample(replacing: "<CrewCount>14</CrewCount>", with: "<CrewCount>x</CrewCount>"))
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for index in 0..<16 {
                group.addTask {
                    let input = index.isMultiple(of: 2) ? document : broken
                    return (index, try XMLSchemaValidator.shipped(.manifest).validate(input).count)
                }
            }
            for try await (index, count) in group {
                #expect(count == (index.isMultiple(of: 2) ? 0 : 1))
            }
        }
    }
}

/// An indented document as the gateway writes the agencies' copies (`XMLText.Layout.compact`): the XML
/// declaration on its line, then the elements with no white space between them, and a final line feed.
private func compact(_ indented: String) -> String {
    let lines = indented.split(separator: "\n")
    return lines[0] + "\n" + lines.dropFirst().map { $0.drop(while: { $0 == " " }) }.joined() + "\n"
}
