import Foundation

// The canonical model to the XML the gateway sends (issue 6): the full manifest in the project's own format,
// and the copies for the agencies that take XML. Each writer validates its output against the shipped schema
// before returning it, so an agency never receives a file its schema refuses: a model value the format cannot
// carry (a negative weight, an over-long name, a control character) fails here, at the gateway, by name.
// Output is deterministic for a given model and generation time: fixed element order, two-space indentation,
// UTF-8, times in UTC, weights in kilograms as plain decimals.

/// `Manifest` → XML.
public enum XMLManifestWriter {
    /// The model holds something the target schema refuses (or, never expected, a shipped schema failed to compile).
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The schema the output was checked against (`manifest-1.xsd`, ...).
        public var schema: String
        public var violations: [XMLSchemaViolation]

        public init(schema: String, violations: [XMLSchemaViolation]) {
            self.schema = schema
            self.violations = violations
        }

        public var description: String {
            "output not valid against \(schema): " + violations.prefix(5).map(\.description).joined(separator: "; ")
        }
    }

    /// The full manifest, valid against manifest-1.xsd; `XMLManifestMapping` reads it back to an equal model
    /// (for text without leading or trailing white space and times to the millisecond).
    /// - Parameter id: the root's `Id` attribute, for an enveloped signature referring to it by `#id`.
    public static func manifest(_ manifest: Manifest, id: String? = nil) throws(Failure) -> [UInt8] {
        var xml = XMLText(.compact, reserving: manifest)
        xml.open("Manifest", attributes: [("Id", id), ("xmlns", ManifestSchema.manifest.namespace)])
        xml.leaf("DocumentNumber", manifest.documentNumber)
        xml.leaf("Function", manifest.function.rawValue)
        xml.leaf("IssueTime", manifest.issuedAt.map(XMLTimestamp.format))
        xml.leaf("Sender", manifest.sender)
        writeTransport(manifest.transport, into: &xml, carrier: true, people: true)
        writeContainers(manifest.containers, into: &xml)
        if !manifest.consignments.isEmpty {
            xml.open("Consignments")
            for consignment in manifest.consignments { writeConsignment(consignment, into: &xml) }
            xml.close("Consignments")
        }
        xml.close("Manifest")
        return try checked(xml.bytes, against: .manifest)
    }

    /// The inspection-and-quarantine copy (ciq-manifest-1.xsd): transport summary and the consignments of
    /// `manifest`, which the caller has already filtered to what routing selects for the agency. Only the
    /// declared containers those consignments' goods are in are listed: another consignment's boxes are not
    /// the agency's business.
    public static func ciqCopy(_ manifest: Manifest, generatedAt: Date) throws(Failure) -> [UInt8] {
        var xml = XMLText(.compact, reserving: manifest)
        xml.open("CIQManifest", attributes: [("xmlns", ManifestSchema.ciqManifest.namespace)])
        writeHeader(manifest, generatedAt: generatedAt, into: &xml)
        writeTransport(manifest.transport, into: &xml, carrier: true, people: false)
        let referenced = Set(manifest.consignments.flatMap(\.containerNumbers))
        writeContainers(manifest.containers.filter { referenced.contains($0.number) }, into: &xml)
        xml.open("Consignments")
        for consignment in manifest.consignments { writeConsignment(consignment, into: &xml) }
        xml.close("Consignments")
        xml.close("CIQManifest")
        return try checked(xml.bytes, against: .ciqManifest)
    }

    /// The border-control copy (border-1.xsd): the means, voyage, ports, times, people on board, and how
    /// many consignments and containers (declared or referred to, each once): no goods, parties or bills.
    public static func borderCopy(_ manifest: Manifest, generatedAt: Date) throws(Failure) -> [UInt8] {
        var xml = XMLText(.compact)
        xml.open("BorderManifest", attributes: [("xmlns", ManifestSchema.border.namespace)])
        writeHeader(manifest, generatedAt: generatedAt, into: &xml)
        writeTransport(manifest.transport, into: &xml, carrier: false, people: true)
        xml.leaf("ConsignmentCount", String(manifest.consignments.count))
        let containers = Set(manifest.containers.map(\.number) + manifest.consignments.flatMap(\.containerNumbers))
        xml.leaf("ContainerCount", String(containers.count))
        xml.close("BorderManifest")
        return try checked(xml.bytes, against: .border)
    }

    // MARK: Parts

    private static func writeHeader(_ manifest: Manifest, generatedAt: Date, into xml: inout XMLText) {
        xml.open("Header")
        xml.leaf("SourceDocument", manifest.documentNumber)
        xml.leaf("Function", manifest.function.rawValue)
        xml.leaf("IssueTime", manifest.issuedAt.map(XMLTimestamp.format))
        xml.leaf("Sender", manifest.sender)
        xml.leaf("GeneratedAt", XMLTimestamp.format(generatedAt))
        xml.close("Header")
    }

    private static func writeTransport(_ transport: TransportMeans, into xml: inout XMLText, carrier: Bool, people: Bool) {
        xml.open("Transport")
        xml.leaf("Mode", transport.mode.rawValue)
        xml.leaf("Voyage", transport.voyage)
        xml.leaf("MeansId", transport.meansId)
        xml.leaf("MeansName", transport.meansName)
        xml.leaf("Nationality", transport.nationality)
        if carrier { xml.leaf("Carrier", transport.carrier) }
        xml.leaf("DeparturePort", transport.departurePort)
        xml.leaf("ArrivalPort", transport.arrivalPort)
        xml.leaf("DepartureTime", transport.departure.map(XMLTimestamp.format))
        xml.leaf("ArrivalTime", transport.arrival.map(XMLTimestamp.format))
        if people {
            xml.leaf("CrewCount", transport.crewCount.map(String.init))
            xml.leaf("PassengerCount", transport.passengerCount.map(String.init))
        }
        xml.close("Transport")
    }

    private static func writeContainers(_ containers: [Container], into xml: inout XMLText) {
        guard !containers.isEmpty else { return }
        xml.open("Containers")
        for container in containers {
            xml.open("Container")
            xml.leaf("Number", container.number)
            xml.leaf("SizeType", container.sizeType)
            for seal in container.seals { xml.leaf("Seal", seal) }
            xml.leaf("Status", container.isFull.map { $0 ? "full" : "empty" })
            xml.leaf("GrossWeight", container.grossWeightKg.map(decimal), attribute: ("unit", "kg"))
            xml.close("Container")
        }
        xml.close("Containers")
    }

    private static func writeConsignment(_ consignment: Consignment, into xml: inout XMLText) {
        xml.open("Consignment")
        xml.leaf("BillOfLading", consignment.billOfLading)
        xml.leaf("MasterBillOfLading", consignment.masterBillOfLading)
        xml.leaf("LoadingPort", consignment.loadingPort)
        xml.leaf("DischargePort", consignment.dischargePort)
        for party in consignment.parties {
            xml.open("Party", attributes: [("role", party.role.rawValue)])
            xml.leaf("Id", party.id)
            xml.leaf("Name", party.name)
            xml.leaf("Address", party.address)
            xml.leaf("Country", party.country)
            xml.close("Party")
        }
        for item in consignment.goods {
            xml.open("GoodsItem")
            xml.leaf("Sequence", String(item.sequence))
            xml.leaf("Packages", item.packages.map(String.init))
            xml.leaf("PackageType", item.packageType)
            xml.leaf("Description", item.description)
            xml.leaf("GrossWeight", item.grossWeightKg.map(decimal), attribute: ("unit", "kg"))
            xml.leaf("HSCode", item.hsCode)
            for goods in item.dangerousGoods {
                xml.open("DangerousGoods")
                xml.leaf("UNNumber", goods.unNumber)
                xml.leaf("Class", goods.hazardClass)
                xml.close("DangerousGoods")
            }
            for share in item.containers {
                xml.leaf("InContainer", share.container, attribute: ("packages", share.packages.map(String.init)))
            }
            xml.close("GoodsItem")
        }
        xml.close("Consignment")
    }

    private static func checked(_ bytes: [UInt8], against schema: ManifestSchema) throws(Failure) -> [UInt8] {
        let violations: [XMLSchemaViolation]
        do {
            violations = try XMLSchemaValidator.shipped(schema).validate(bytes, maxBytes: Int.max, generated: true)
        } catch {
            violations = [XMLSchemaViolation(line: nil, path: nil, message: error.message)]
        }
        guard violations.isEmpty else { throw Failure(schema: schema.fileName, violations: violations) }
        return bytes
    }

    /// A weight as a plain decimal (no exponent), the shortest that reads back to the same `Double`:
    /// `24650.5`, `12000`, `0.000012`; at most 20 decimals (cut, not rounded). NaN, infinities and negatives
    /// come out as Swift spells them, which the schema then refuses.
    static func decimal(_ value: Double) -> String {
        guard value.isFinite, value >= 0 else { return value.description }
        if value == 0 { return "0" }
        // Most weights are whole kilograms, or Swift's shortest text has no exponent and is the answer already.
        if value < 1e15, value == value.rounded(.towardZero) { return String(Int64(value)) }
        let text = value.description
        if !text.utf8.contains(UInt8(ascii: "e")) && !text.hasSuffix(".0") { return text }
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0].split(separator: ".", maxSplits: 1)
        let whole = String(mantissa[0])
        let fraction = mantissa.count > 1 ? String(mantissa[1]) : ""
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let digits = whole + fraction
        let point = whole.count + exponent
        var integerPart: String
        var fractionPart: String
        if point <= 0 {
            integerPart = "0"
            fractionPart = String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            integerPart = digits + String(repeating: "0", count: point - digits.count)
            fractionPart = ""
        } else {
            integerPart = String(digits.prefix(point))
            fractionPart = String(digits.dropFirst(point))
        }
        if fractionPart.count > 20 { fractionPart = String(fractionPart.prefix(20)) }  // WeightValue's most: under 1e-20 kg is 0
        while fractionPart.hasSuffix("0") { fractionPart.removeLast() }
        while integerPart.count > 1 && integerPart.hasPrefix("0") { integerPart.removeFirst() }
        return fractionPart.isEmpty ? integerPart : "\(integerPart).\(fractionPart)"
    }
}

/// One container of a joint-inspection or hold notice: the box, the bills whose goods are in it, and the
/// agencies that will attend its inspection or that hold it.
public struct NoticeContainer: Sendable, Hashable {
    public var number: String
    public var bills: [String]
    public var agencies: [String]

    public init(number: String, bills: [String], agencies: [String]) {
        self.number = number
        self.bills = bills
        self.agencies = agencies
    }
}

extension XMLManifestWriter {
    /// A notice to a terminal (terminal-notice-1.xsd): `kind` is `joint-inspection`, `inspection` (one agency),
    /// `hold`, `release` (with `validUntil`) or `release-cancellation` (with the release it `cancels`).
    public static func terminalNotice(reference: String, kind: String, manifest: Manifest, containers: [NoticeContainer],
                                      generatedAt: Date, cancels: String? = nil, validUntil: Date? = nil) throws(Failure) -> [UInt8] {
        var xml = XMLText()
        xml.open("TerminalNotice", attributes: [("xmlns", ManifestSchema.terminalNotice.namespace)])
        xml.leaf("Reference", reference)
        xml.leaf("Kind", kind)
        xml.leaf("GeneratedAt", XMLTimestamp.format(generatedAt))
        xml.leaf("Cancels", cancels)
        xml.leaf("ValidUntil", validUntil.map(XMLTimestamp.format))
        xml.leaf("Manifest", manifest.documentNumber)
        xml.leaf("Voyage", manifest.transport.voyage)
        xml.leaf("MeansName", manifest.transport.meansName)
        for c in containers {
            xml.open("Container")
            xml.leaf("Number", c.number)
            for bill in c.bills { xml.leaf("Bill", bill) }
            for agency in c.agencies { xml.leaf("Agency", agency) }
            xml.close("Container")
        }
        xml.close("TerminalNotice")
        return try checked(xml.bytes, against: .terminalNotice)
    }

    /// A status (status-1.xsd): each consignment's combined state, its containers', and for an agency each
    /// agency's position; the references a request named that were not found.
    public static func status(_ report: StatusReport, generatedAt: Date) throws(Failure) -> [UInt8] {
        var xml = XMLText()
        xml.open("Status", attributes: [("xmlns", ManifestSchema.status.namespace)])
        xml.leaf("Reference", report.reference)
        xml.leaf("GeneratedAt", XMLTimestamp.format(generatedAt))
        xml.leaf("InReplyTo", report.inReplyTo)
        for e in report.entries {
            xml.open("Consignment")
            xml.leaf("Manifest", e.manifest)
            xml.leaf("Bill", e.bill)
            xml.leaf("State", e.state.rawValue)
            xml.leaf("Reason", e.reason.map { String($0.prefix(512)) })
            for c in e.containers {
                xml.open("Container")
                xml.leaf("Number", c.number)
                xml.leaf("State", c.state.rawValue)
                xml.close("Container")
            }
            for p in e.positions {
                xml.open("Agency")
                xml.leaf("Id", p.agency)
                xml.leaf("Position", p.position)
                xml.close("Agency")
            }
            xml.close("Consignment")
        }
        for object in report.notFound { xml.leaf("NotFound", object.reference) }
        xml.close("Status")
        return try checked(xml.bytes, against: .status)
    }
}

/// An XML document built as UTF-8 bytes, with escaping done once here. (Built as one `String` with `+` per
/// element it was a fifth of generating a copy.)
struct XMLText {
    /// How elements are laid out: `indented`, one element a line, indented by depth, for the files people at a
    /// terminal read (release notices, status); `compact`, no white space between elements, for the agencies'
    /// manifest copies, which their systems read. A copy's indentation was a fifth of its bytes, and the
    /// XSD check of each copy reads every byte: compact copies made a routed run of 1 000 manifests 3 % faster
    /// (eight alternations). `xmllint --format FILE` shows a compact copy indented.
    enum Layout { case indented, compact }

    private(set) var bytes: [UInt8] = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".utf8)
    private let layout: Layout
    private var depth = 0

    init(_ layout: Layout = .indented) { self.layout = layout }

    /// With room for `manifest` written whole (about 1.6 KB a consignment with its goods, 120 bytes a container,
    /// indented), so the bytes are not copied again and again as they grow: an 80 KB copy grew through a dozen
    /// buffers.
    init(_ layout: Layout, reserving manifest: Manifest) {
        self.layout = layout
        bytes.reserveCapacity(2048 + 1700 * manifest.consignments.count + 128 * manifest.containers.count)
    }

    mutating func open(_ name: String, attributes: [(String, String?)] = []) {
        indent()
        bytes.append(UInt8(ascii: "<"))
        append(name)
        for (attribute, value) in attributes { append(attribute: attribute, value) }
        bytes.append(UInt8(ascii: ">"))
        if layout == .indented { bytes.append(0x0A) }
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        indent()
        append("</")
        append(name)
        bytes.append(UInt8(ascii: ">"))
        endLine()
    }

    /// `<name>value</name>`, or nothing when the value is absent; `attribute` (name, value) is written when its value
    /// is present. One optional attribute rather than an array of them: no element of a leaf has two, and the array
    /// was an allocation for each weight and container share of a manifest copy.
    mutating func leaf(_ name: String, _ value: String?, attribute: (name: String, value: String?)? = nil) {
        guard let value else { return }
        indent()
        bytes.append(UInt8(ascii: "<"))
        append(name)
        if let attribute { append(attribute: attribute.name, attribute.value) }
        bytes.append(UInt8(ascii: ">"))
        appendEscaped(value, attribute: false)
        append("</")
        append(name)
        bytes.append(UInt8(ascii: ">"))
        endLine()
    }

    private mutating func indent() {
        if layout == .indented { bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth)) }
    }

    /// After an element's end: a line feed when indented; when compact, only after the root element, so the
    /// file ends with a line like any text file.
    private mutating func endLine() {
        if layout == .indented || depth == 0 { bytes.append(0x0A) }
    }

    /// ` name="value"`, or nothing when the value is absent.
    private mutating func append(attribute name: String, _ value: String?) {
        guard let value else { return }
        bytes.append(UInt8(ascii: " "))
        append(name)
        append("=\"")
        appendEscaped(value, attribute: true)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A string's UTF-8, copied through a pointer (native strings are contiguous; iterating `utf8` was a third
    /// of the writer's time).
    private mutating func append(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil { bytes += text.utf8 }
    }

    /// The value as is when nothing in it needs escaping (the usual case), else `escape`d.
    private mutating func appendEscaped(_ value: String, attribute: Bool) {
        func needsEscape(_ b: UInt8) -> Bool {
            b == UInt8(ascii: "&") || b == UInt8(ascii: "<") || b == UInt8(ascii: ">") || b == 0x0D
                || (attribute && (b == UInt8(ascii: "\"") || b == 0x0A || b == 0x09))
        }
        let plain = value.utf8.withContiguousStorageIfAvailable { !$0.contains(where: needsEscape) }
            ?? !value.utf8.contains(where: needsEscape)
        if plain { append(value) } else { append(Self.escape(value, attribute: attribute)) }
    }

    /// Escapes markup characters, and the white space a parser would otherwise normalize away: a carriage
    /// return anywhere (line-end normalization), and tab and line feed in attributes (value normalization).
    static func escape(_ value: String, attribute: Bool) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(value.unicodeScalars.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"" where attribute: result += "&quot;"
            case "\r": result += "&#13;"
            case "\n" where attribute: result += "&#10;"
            case "\t" where attribute: result += "&#9;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
