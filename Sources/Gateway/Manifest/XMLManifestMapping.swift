import CLibXML2
import Foundation
import Jobs

// The project's XML manifest (schemas/manifest-1.xsd, urn:swg:manifest:1) to the canonical model (issue 6).
// Two steps, in this order: the schema (structure, codes, patterns) and then the rules a schema cannot say
// well or cannot say with the consignment's name (ISO 6346 check digits, containers referred to but not
// declared, bills of lading and containers filed twice). Every refusal is a `ManifestMappingError`
// naming the line and element path, and the bill of lading when the error is inside a consignment, so the
// APERAK tells the carrier which consignment to fix. The enveloped signature is verified before mapping
// (Sources/Gateway/Signatures); the mapping skips it.

/// XML manifest → `Manifest`.
public enum XMLManifestMapping {
    /// All the refusals of one document (the mapping reports every error it finds, not the first).
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var errors: [ManifestMappingError]

        public init(errors: [ManifestMappingError]) { self.errors = errors }

        public var description: String { errors.map(\.description).joined(separator: "\n") }
    }

    /// Error codes beyond the shared ones (`manifest.container-check-digit`, `manifest.unknown-container`,
    /// `manifest.duplicate-bill-of-lading`).
    public enum Code {
        /// The document does not match manifest-1.xsd (location: line and element path).
        public static let schema = "manifest.xml-schema"
        /// Not well-formed XML.
        public static let malformed = "manifest.xml-malformed"
        /// A DOCTYPE (entity declarations, external subsets): refused before anything is resolved.
        public static let unsafe = "manifest.xml-unsafe"
        /// Larger than `maxDocumentBytes`.
        public static let tooLarge = "manifest.xml-too-large"
        public static let containerCheckDigit = "manifest.container-check-digit"
        public static let unknownContainer = "manifest.unknown-container"
        public static let duplicateBillOfLading = "manifest.duplicate-bill-of-lading"
        /// The same container number declared twice under `Containers`.
        public static let duplicateContainer = "manifest.duplicate-container"
        /// Two goods items of one consignment with the same sequence number.
        public static let duplicateGoodsItem = "manifest.duplicate-goods-item"
    }

    /// The largest document mapped: far above a real manifest (10,000 bills of lading is about 20 MB),
    /// and a bound on what one hostile file can make the gateway hold.
    public static let maxDocumentBytes = 64 << 20

    /// Validates `bytes` against manifest-1.xsd, then maps them.
    public static func manifest(from bytes: [UInt8]) -> Result<Manifest, Failure> {
        let document: XMLDSigXMLDocument
        do {
            document = try XMLSchemaValidator.parseDocument(bytes, maxBytes: maxDocumentBytes)
        } catch {
            let code = switch error.kind {
            case .unsafe: Code.unsafe
            case .tooLarge: Code.tooLarge
            case .malformed, .badSchema: Code.malformed
            }
            return .failure(Failure(errors: [ManifestMappingError(code: code, location: "document", message: error.message)]))
        }
        let validator: XMLSchemaValidator
        do {
            validator = try XMLSchemaValidator.shipped(.manifest)
        } catch {
            // Only a broken build can get here (the embedded schema is tested); still an answer, not a crash.
            return .failure(Failure(errors: [ManifestMappingError(code: Code.schema, location: "schema", message: error.message)]))
        }
        let violations = validator.validate(document: document)
        if !violations.isEmpty {
            return .failure(Failure(errors: violations.map { located in
                ManifestMappingError(code: Code.schema,
                                     consignment: located.element.flatMap(XMLElementReader.enclosingBillOfLading),
                                     location: located.violation.location.isEmpty ? "document" : located.violation.location,
                                     message: located.violation.message)
            }))
        }
        guard let root = document.root else {
            return .failure(Failure(errors: [ManifestMappingError(code: Code.malformed, location: "document", message: "no root element")]))
        }
        var reader = XMLElementReader()
        let manifest = withExtendedLifetime(document) { reader.manifest(root) }
        guard reader.errors.isEmpty, let manifest else { return .failure(Failure(errors: reader.errors)) }
        return .success(manifest)
    }
}

/// Walks a manifest document that the schema already accepted, collecting the rule errors.
struct XMLElementReader {
    var errors: [ManifestMappingError] = []

    mutating func manifest(_ root: xmlNodePtr) -> Manifest? {
        var documentNumber = "", sender = ""
        var function: ManifestFunction = .original
        var issuedAt: Date?
        var transport: TransportMeans?
        var containers: [Container] = []
        var consignments: [Consignment] = []
        for child in Self.elements(root) {
            let text = Self.text(child)
            switch Self.name(child) {
            case "DocumentNumber": documentNumber = text
            case "Function": function = ManifestFunction(rawValue: text) ?? unexpected(child, .original)
            case "IssueTime": issuedAt = timestamp(child)
            case "Sender": sender = text
            case "Transport": transport = self.transport(child)
            case "Containers": containers = Self.elements(child).map { container($0) }
            case "Consignments": consignments = Self.elements(child).map { consignment($0) }
            case "Signature" where Self.namespace(child) == XMLDSigTransformURI.dsigNamespace: break
            default: report(XMLManifestMapping.Code.schema, child, "only ds:Signature may follow Consignments (found \(Self.name(child)))")
            }
        }
        checkReferences(root, containers: containers)
        guard let transport else { return nil }
        return Manifest(documentNumber: documentNumber, function: function, issuedAt: issuedAt, sender: sender,
                        transport: transport, containers: containers, consignments: consignments)
    }

    private mutating func transport(_ node: xmlNodePtr) -> TransportMeans {
        var means = TransportMeans(mode: .sea, voyage: "")
        for child in Self.elements(node) {
            let text = Self.text(child)
            switch Self.name(child) {
            case "Mode": means.mode = TransportMode(rawValue: text) ?? unexpected(child, .sea)
            case "Voyage": means.voyage = text
            case "MeansId": means.meansId = text
            case "MeansName": means.meansName = text
            case "Nationality": means.nationality = text
            case "Carrier": means.carrier = text
            case "DeparturePort": means.departurePort = text
            case "ArrivalPort": means.arrivalPort = text
            case "DepartureTime": means.departure = timestamp(child)
            case "ArrivalTime": means.arrival = timestamp(child)
            case "CrewCount": means.crewCount = integer(child)
            case "PassengerCount": means.passengerCount = integer(child)
            default: break
            }
        }
        return means
    }

    private mutating func container(_ node: xmlNodePtr) -> Container {
        var container = Container(number: "")
        for child in Self.elements(node) {
            let text = Self.text(child)
            switch Self.name(child) {
            case "Number":
                container.number = text
                if !ISO6346.isValid(text) {
                    report(XMLManifestMapping.Code.containerCheckDigit, child, Self.checkDigitMessage(text))
                }
            case "SizeType": container.sizeType = text
            case "Seal": container.seals.append(text)
            case "Status": container.isFull = text == "full"
            case "GrossWeight": container.grossWeightKg = weight(child)
            default: break
            }
        }
        return container
    }

    private mutating func consignment(_ node: xmlNodePtr) -> Consignment {
        var consignment = Consignment(billOfLading: "")
        for child in Self.elements(node) {
            let text = Self.text(child)
            switch Self.name(child) {
            case "BillOfLading": consignment.billOfLading = text
            case "MasterBillOfLading": consignment.masterBillOfLading = text
            case "LoadingPort": consignment.loadingPort = text
            case "DischargePort": consignment.dischargePort = text
            case "Party": consignment.parties.append(party(child))
            case "GoodsItem": consignment.goods.append(goodsItem(child))
            default: break
            }
        }
        return consignment
    }

    private mutating func party(_ node: xmlNodePtr) -> Party {
        var party = Party(role: PartyRole(rawValue: Self.attribute(node, "role") ?? "") ?? unexpected(node, .shipper))
        for child in Self.elements(node) {
            let text = Self.text(child)
            switch Self.name(child) {
            case "Id": party.id = text
            case "Name": party.name = text
            case "Address": party.address = text
            case "Country": party.country = text
            default: break
            }
        }
        return party
    }

    private mutating func goodsItem(_ node: xmlNodePtr) -> GoodsItem {
        var item = GoodsItem(sequence: 0, description: "")
        for child in Self.elements(node) {
            let text = Self.text(child)
            switch Self.name(child) {
            case "Sequence": item.sequence = integer(child) ?? 0
            case "Packages": item.packages = integer(child)
            case "PackageType": item.packageType = text
            case "Description": item.description = text
            case "GrossWeight": item.grossWeightKg = weight(child)
            case "HSCode": item.hsCode = text
            case "DangerousGoods":
                var goods = DangerousGoods(unNumber: "")
                for part in Self.elements(child) {
                    if Self.name(part) == "UNNumber" { goods.unNumber = Self.text(part) }
                    if Self.name(part) == "Class" { goods.hazardClass = Self.text(part) }
                }
                item.dangerousGoods.append(goods)
            case "InContainer":
                let packages = Self.attribute(child, "packages").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                item.containers.append(ContainerShare(container: text, packages: packages.flatMap { Int($0) }))
            default: break
            }
        }
        return item
    }

    // MARK: Rules across elements

    /// Duplicate containers, bills of lading and goods items; shares naming undeclared containers.
    private mutating func checkReferences(_ root: xmlNodePtr, containers: [Container]) {
        let sections = Self.elements(root)
        var declared: Set<String> = []
        for node in sections where Self.name(node) == "Containers" {
            for container in Self.elements(node) {
                guard let number = Self.elements(container).first(where: { Self.name($0) == "Number" }) else { continue }
                if !declared.insert(Self.text(number)).inserted {
                    report(XMLManifestMapping.Code.duplicateContainer, number,
                           "container \(Self.text(number)) is declared more than once")
                }
            }
        }
        var bills: Set<String> = []
        for node in sections where Self.name(node) == "Consignments" {
            for consignment in Self.elements(node) {
                let children = Self.elements(consignment)
                guard let bill = children.first(where: { Self.name($0) == "BillOfLading" }) else { continue }
                let billText = Self.text(bill)
                if !bills.insert(billText).inserted {
                    report(XMLManifestMapping.Code.duplicateBillOfLading, bill,
                           "bill of lading \(billText) is filed more than once in this manifest")
                }
                // By number: "1" and "01" are the same item to the library.
                var sequences: Set<String> = []
                for item in children where Self.name(item) == "GoodsItem" {
                    for part in Self.elements(item) {
                        if Self.name(part) == "Sequence", !sequences.insert(Int(Self.text(part)).map(String.init) ?? Self.text(part)).inserted {
                            report(XMLManifestMapping.Code.duplicateGoodsItem, part,
                                   "goods item \(Self.text(part)) appears more than once in bill of lading \(billText)")
                        }
                        guard Self.name(part) == "InContainer" else { continue }
                        let number = Self.text(part)
                        if !declared.contains(number) {
                            let digit = ISO6346.isValid(number) ? "" : " (and its ISO 6346 check digit is wrong)"
                            report(XMLManifestMapping.Code.unknownContainer, part,
                                   "container \(number) is not declared under Containers\(digit)")
                        }
                    }
                }
            }
        }
    }

    // MARK: Values

    /// Kilograms from a `GrossWeight` with its `unit` (kg, t, lb; the pound is exactly 0.45359237 kg).
    private mutating func weight(_ node: xmlNodePtr) -> Double? {
        guard let value = Double(Self.text(node)) else { return unexpected(node, nil) }
        let factor: Double
        switch Self.attribute(node, "unit") {
        case "kg": factor = 1
        case "t": factor = 1000
        case "lb": factor = 0.45359237
        default: return unexpected(node, nil)
        }
        guard let kg = ManifestRules.weightKg(value * factor) else {
            report(XMLManifestMapping.Code.schema, node, "gross weight \(Self.text(node)) \(Self.attribute(node, "unit") ?? "") is over the 9 999 999 999 999 kg a copy can state")
            return nil
        }
        return kg
    }

    private mutating func integer(_ node: xmlNodePtr) -> Int? {
        guard let value = Int(Self.text(node)) else { return unexpected(node, nil) }
        return value
    }

    private mutating func timestamp(_ node: xmlNodePtr) -> Date? {
        guard let date = XMLTimestamp.parse(Self.text(node)) else { return unexpected(node, nil) }
        guard ManifestRules.instants.contains(date) else {
            report(XMLManifestMapping.Code.schema, node, "time \(Self.text(node)) is outside the years 0001 to 9999 once in UTC")
            return nil
        }
        return date
    }

    /// A value the schema should have refused: reported as a schema error rather than trusted.
    private mutating func unexpected<T>(_ node: xmlNodePtr, _ fallback: T) -> T {
        report(XMLManifestMapping.Code.schema, node, "unexpected value \"\(Self.text(node))\"")
        return fallback
    }

    private mutating func report(_ code: String, _ node: xmlNodePtr, _ message: String) {
        errors.append(ManifestMappingError(
            code: code, consignment: Self.enclosingBillOfLading(node),
            location: "line \(xmlGetLineNo(node)), \(XMLSchemaValidator.elementPath(node))", message: message))
    }

    static func checkDigitMessage(_ number: String) -> String {
        let expected = ISO6346.checkDigit(String(number.prefix(10))).map { ", expected \($0)" } ?? ""
        return "container number \(number) fails the ISO 6346 check digit (last digit \(number.suffix(1))\(expected))"
    }

    // MARK: DOM

    /// The bill of lading of the `Consignment` element containing `node`, if any.
    static func enclosingBillOfLading(_ node: xmlNodePtr) -> String? {
        var current: xmlNodePtr? = node
        while let element = current, element.pointee.type == XML_ELEMENT_NODE {
            if name(element) == "Consignment" {
                return elements(element).first { name($0) == "BillOfLading" }.map(text).flatMap { $0.isEmpty ? nil : $0 }
            }
            current = element.pointee.parent
        }
        return nil
    }

    static func elements(_ node: xmlNodePtr) -> [xmlNodePtr] { XMLDSigXMLDocument.elementChildren(of: node) }

    static func name(_ node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    static func namespace(_ node: xmlNodePtr) -> String? {
        node.pointee.ns?.pointee.href.map { String(cString: $0) }
    }

    /// The element's text, trimmed of XML white space (indentation is not content).
    static func text(_ node: xmlNodePtr) -> String {
        guard let content = xmlNodeGetContent(node) else { return "" }
        defer { swg_xmlFree(content) }
        return String(cString: content).trimmingCharacters(in: xmlWhitespace)
    }

    static func attribute(_ node: xmlNodePtr, _ name: String) -> String? {
        guard let value = xmlGetNoNsProp(node, name) else { return nil }
        defer { swg_xmlFree(value) }
        return String(cString: value)
    }

    /// XML's white space: space, tab, line feed, carriage return (not every Unicode space).
    private static let xmlWhitespace = CharacterSet(charactersIn: " \t\n\r")
}

/// `xs:dateTime` with a zone, as the shipped schemas accept it, to and from `Date`.
enum XMLTimestamp {
    /// `2024-05-17T08:30:00+08:00`, `2024-05-18T06:00:00.250Z`. Nil for anything else.
    static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for i in start..<(start + count) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58,
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        var index = 19
        var fraction = 0.0
        if b[index] == 46 {
            var scale = 0.1
            index += 1
            let start = index
            while index < b.count, b[index] >= 48, b[index] <= 57 {
                fraction += Double(b[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        guard index < b.count else { return nil }
        if b[index] == 90 {
            guard index + 1 == b.count else { return nil }
        } else {
            guard b[index] == 43 || b[index] == 45, index + 6 == b.count, b[index + 3] == 58,
                  let hours = digits(index + 1, 2), let minutes = digits(index + 4, 2), hours <= 14, minutes < 60 else { return nil }
            offset = (hours * 60 + minutes) * 60 * (b[index] == 45 ? -1 : 1)
        }
        let seconds = CivilDate.daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// UTC, `Z`, with milliseconds only when the time has them (times are carried to the millisecond).
    static func format(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        guard milliseconds.isFinite, abs(milliseconds) < 1e15 else { return "invalid" }
        let total = Int(milliseconds)
        let seconds = total >= 0 ? total / 1000 : (total - 999) / 1000
        let millis = total - seconds * 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = seconds - days * 86_400
        let (year, month, day) = CivilDate.civilFromDays(days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var result = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(inDay / 3600, 2)):\(pad(inDay % 3600 / 60, 2)):\(pad(inDay % 60, 2))"
        if millis != 0 { result += ".\(pad(millis, 3))" }
        return result + "Z"
    }

}
