import CLibXML2
import Foundation

// XSD validation with libxml2 (issue 6). A schema is parsed once and shared: libxml2 treats a parsed
// `xmlSchema` as read-only, so concurrent validations are safe as long as each call has its own
// validation context, which `validate` creates and frees. Documents are parsed by the same safe parser
// as signed XML (`XMLDSigXMLDocument.parse`: no DOCTYPE, no entities, no network), and schemas too, so
// nothing a file says can make the gateway read a file or fetch a URL.

/// One schema violation, as libxml2 reports it: where (line, element path) and what.
public struct XMLSchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line of the offending element (libxml2 counts lines up to 65535 exactly).
    public var line: Int?
    /// Element path from the root by local names, with a 1-based index where siblings share a name
    /// (`/Manifest/Consignments/Consignment[2]/GoodsItem/HSCode`); `/@name` ends it for an attribute.
    public var path: String?
    /// libxml2's message without its trailing newline (it names the element and the rule broken).
    public var message: String

    public init(line: Int?, path: String?, message: String) {
        self.line = line
        self.path = path
        self.message = message
    }

    /// `line 12, /Manifest/Transport/Mode` (or whichever parts are known).
    public var location: String {
        [line.map { "line \($0)" }, path].compactMap { $0 }.joined(separator: ", ")
    }

    public var description: String {
        let place = location
        return place.isEmpty ? message : "\(place): \(message)"
    }
}

/// Why a document or a schema could not be validated at all (as opposed to being invalid).
public struct XMLSchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The document carries a DOCTYPE (entities, external subsets): refused before anything is resolved.
        case unsafe
        /// Not well-formed XML (or no root element).
        case malformed
        /// Larger than the caller's limit.
        case tooLarge
        /// The schema itself is unusable: it does not compile, or it imports or includes other files.
        case badSchema
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// A compiled XSD, validating any number of documents, concurrently.
public final class XMLSchemaValidator: @unchecked Sendable {
    // @unchecked: `schema` is written once in init and only read afterwards (libxml2 validation does not
    // modify it); `schemaDocument` is only kept alive for it.
    private let schema: xmlSchemaPtr
    private let schemaDocument: XMLDSigXMLDocument
    /// What the schema is called in messages (its file name).
    public let name: String

    /// At most this many violations are collected per document: enough to fix a file, bounded for a hostile one.
    public static let maxViolations = 100

    /// Compiles a schema from its bytes. Refuses a schema with `xs:import`, `xs:include`, `xs:redefine` or
    /// `xs:override`: libxml2 would fetch the referenced schema (over the network for a URL), and the
    /// gateway's schemas are self-contained by design.
    public init(schema bytes: [UInt8], name: String) throws(XMLSchemaError) {
        _ = Self.libraryReady
        let document: XMLDSigXMLDocument
        do {
            document = try XMLDSigXMLDocument.parse(bytes)
        } catch {
            throw XMLSchemaError(kind: .badSchema, message: "schema \(name) cannot be read: \(error.operatorReason)")
        }
        if let reference = Self.firstExternalReference(under: document.root) {
            throw XMLSchemaError(kind: .badSchema,
                                 message: "schema \(name) has xs:\(reference): schemas must be self-contained (nothing is fetched)")
        }
        guard let context = xmlSchemaNewDocParserCtxt(document.handle) else {
            throw XMLSchemaError(kind: .badSchema, message: "schema \(name): out of memory")
        }
        defer { xmlSchemaFreeParserCtxt(context) }
        let collector = ViolationCollector()
        let parsed = withExtendedLifetime(collector) { () -> xmlSchemaPtr? in
            xmlSchemaSetParserStructuredErrors(context, ViolationCollector.callback,
                                               Unmanaged.passUnretained(collector).toOpaque())
            return Self.compiling.withLock { xmlSchemaParse(context) }
        }
        guard let parsed else {
            let reasons = collector.violations.prefix(3).map(\.description).joined(separator: "; ")
            throw XMLSchemaError(kind: .badSchema, message: "schema \(name) does not compile: \(reasons)")
        }
        self.schema = parsed
        self.schemaDocument = document
        self.name = name
    }

    /// Compiles the schema in the file at `path` (an explicit deployment choice; the shipped schemas are embedded).
    public convenience init(contentsOf path: String) throws(XMLSchemaError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw XMLSchemaError(kind: .badSchema, message: "cannot read the schema file \(path)")
        }
        try self.init(schema: [UInt8](data), name: (path as NSString).lastPathComponent)
    }

    deinit {
        // The schema first: it may point into its document, which is freed after this body.
        xmlSchemaFree(schema)
    }

    /// The compiled form of a shipped schema, made once per process (a failure is kept too, never retried).
    public static func shipped(_ schema: ManifestSchema) throws(XMLSchemaError) -> XMLSchemaValidator {
        let compiled: Result<XMLSchemaValidator, XMLSchemaError>
        switch schema {
        case .manifest: compiled = shippedManifest
        case .ciqManifest: compiled = shippedCIQ
        case .border: compiled = shippedBorder
        case .instruction: compiled = shippedInstruction
        case .terminalNotice: compiled = shippedTerminalNotice
        case .status: compiled = shippedStatus
        case .statusRequest: compiled = shippedStatusRequest
        }
        return try compiled.get()
    }

    private static let shippedManifest = compile(.manifest)
    private static let shippedCIQ = compile(.ciqManifest)
    private static let shippedBorder = compile(.border)
    private static let shippedInstruction = compile(.instruction)
    private static let shippedTerminalNotice = compile(.terminalNotice)
    private static let shippedStatus = compile(.status)
    private static let shippedStatusRequest = compile(.statusRequest)

    private static func compile(_ schema: ManifestSchema) -> Result<XMLSchemaValidator, XMLSchemaError> {
        Result { () throws(XMLSchemaError) in try XMLSchemaValidator(schema: Array(schema.text.utf8), name: schema.fileName) }
    }

    /// libxml2's global set-up, once per process before the first schema: `xmlInitParser`, and the XSD built-in
    /// types. libxml2 2.9 (Debian 12) builds those lazily inside the first `xmlSchemaParse`, without a lock: two
    /// schemas compiled at once on two threads (the CIQ and border copies of the first routed manifests) each
    /// built a set, and a schema compiled against the set that lost then judged every valid `xs:dateTime` invalid
    /// for the rest of the process (seen as a whole run's copies refused: "'2026-11-30T00:49:37.441Z' is not a
    /// valid value of the atomic type 'xs:dateTime'"). Swift runs this initializer exactly once.
    private static let libraryReady: Void = {
        xmlInitParser()
        xmlSchemaInitTypes()
    }()
    /// Schema compilation, one at a time: it is rare (once per schema per process) and libxml2 does not promise it
    /// is re-entrant; validation against a compiled schema is.
    private static let compiling = NSLock()

    // MARK: Validating

    /// Parses `bytes` safely and validates them. Throws only when there is no document to validate
    /// (DOCTYPE, not well-formed, larger than `maxBytes`); an invalid document returns its violations.
    /// `generated`: the gateway wrote the document (an agency's copy) and only checks it. It is first validated as
    /// it is read, without building a tree (`streamValidates`); only when that does not pass is it parsed into a tree,
    /// the whitespace between its elements left out and the tree kept compact (see `XMLDSigXMLDocument.parse`), to
    /// name each violation's element. Validity is the same either way.
    public func validate(_ bytes: [UInt8], maxBytes: Int = 64 << 20, generated: Bool = false) throws(XMLSchemaError)
        -> [XMLSchemaViolation]
    {
        if generated, bytes.count <= maxBytes, streamValidates(bytes) { return [] }
        let document = try Self.parseDocument(bytes, maxBytes: maxBytes, onlyValidated: generated)
        return validate(document: document).map(\.violation)
    }

    /// Whether `bytes` are valid, checked by libxml2's validating SAX parse (`xmlSchemaValidateStream`), which
    /// builds no tree: a quarter less time than parsing into a tree and validating it (route-bench components, per
    /// 1 000 manifests of 50 consignments: the CIQ copies' check 352 -> 263 ms, the MSA copies' 493 -> 374 ms).
    /// The process never changes libxml2's global parser defaults, so this parse, like the tree path's, loads no
    /// DTD and substitutes no entity. It reports no element paths, so it answers only "valid"; anything
    /// else (invalid, not well-formed, a DOCTYPE) is left to the tree path, which refuses or explains it. Used for
    /// the gateway's own copies only: received documents always go through the tree path's safe parse. A copy
    /// with a DOCTYPE is not even read here (the writer never writes one), so no entity or DTD is ever loaded.
    func streamValidates(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count < Int(Int32.max), !Self.hasDoctypeInProlog(bytes),
              let context = xmlSchemaNewValidCtxt(schema) else { return false }
        defer { xmlSchemaFreeValidCtxt(context) }
        // Violations are not collected here (the tree path names them): a no-op handler keeps libxml2 from
        // printing them.
        xmlSchemaSetValidStructuredErrors(context, { _, _ in }, nil)
        return bytes.withUnsafeBufferPointer { buffer -> Bool in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            // A copy of the bytes (libxml2 2.9's static buffers fail this parse); xmlSchemaValidateStream frees it.
            guard let input = xmlParserInputBufferCreateMem(base, Int32(buffer.count), XML_CHAR_ENCODING_NONE) else {
                return false
            }
            // No SAX handler of ours: nothing is built; libxml2 plugs in only its validating callbacks.
            return xmlSchemaValidateStream(context, input, XML_CHAR_ENCODING_NONE, nil, nil) == 0
        }
    }

    /// The safe parse, with its refusals turned into `XMLSchemaError`.
    static func parseDocument(_ bytes: [UInt8], maxBytes: Int, onlyValidated: Bool = false) throws(XMLSchemaError)
        -> XMLDSigXMLDocument
    {
        guard bytes.count <= maxBytes else {
            throw XMLSchemaError(kind: .tooLarge, message: "the document is \(bytes.count) bytes, more than the \(maxBytes) accepted")
        }
        do {
            return try XMLDSigXMLDocument.parse(bytes, onlyValidated: onlyValidated)
        } catch {
            // libxml2 can stop inside the DOCTYPE (an entity loop, a billion laughs) before the parser
            // reports one: a DOCTYPE in the prolog is still what makes the document unsafe.
            if error.code != .unsafeXML, hasDoctypeInProlog(bytes) {
                throw XMLSchemaError(kind: .unsafe, message: "the document has a DOCTYPE (\(error.operatorReason))")
            }
            throw XMLSchemaError(kind: error.code == .unsafeXML ? .unsafe : .malformed, message: error.operatorReason)
        }
    }

    /// Whether `<!DOCTYPE` appears before the first element start tag (comments and PIs may precede it).
    static func hasDoctypeInProlog(_ bytes: [UInt8]) -> Bool {
        let doctype = Array("<!DOCTYPE".utf8)
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "<") {
                let next = bytes[index + 1]
                if next != UInt8(ascii: "!") && next != UInt8(ascii: "?") { return false }
                if index + doctype.count <= bytes.count, Array(bytes[index..<(index + doctype.count)]) == doctype { return true }
            }
            index += 1
        }
        return false
    }

    /// A violation with the element it concerns; the node is valid only while `document` lives.
    struct LocatedViolation {
        var violation: XMLSchemaViolation
        var element: xmlNodePtr?
    }

    /// Validates a parsed document with a fresh validation context (one per call: contexts are not shareable).
    func validate(document: XMLDSigXMLDocument) -> [LocatedViolation] {
        guard let context = xmlSchemaNewValidCtxt(schema) else {
            return [LocatedViolation(violation: XMLSchemaViolation(line: nil, path: nil, message: "out of memory"))]
        }
        defer { xmlSchemaFreeValidCtxt(context) }
        let collector = ViolationCollector()
        let status = withExtendedLifetime(collector) { () -> Int32 in
            xmlSchemaSetValidStructuredErrors(context, ViolationCollector.callback,
                                              Unmanaged.passUnretained(collector).toOpaque())
            return xmlSchemaValidateDoc(context, document.handle)
        }
        var found = collector.located
        if collector.dropped > 0 {
            found.append(LocatedViolation(violation: XMLSchemaViolation(
                line: nil, path: nil, message: "\(collector.dropped) more violations not listed")))
        }
        if status != 0 && found.isEmpty {
            let message = status < 0 ? "libxml2 could not validate the document (internal error)"
                : "the document is not valid against \(name) (libxml2 error \(status))"
            found.append(LocatedViolation(violation: XMLSchemaViolation(line: nil, path: nil, message: message)))
        }
        return found
    }

    // MARK: Helpers

    private static let xsdNamespace = "http://www.w3.org/2001/XMLSchema"

    /// The first `xs:import`/`include`/`redefine`/`override` anywhere in the schema, by local name.
    private static func firstExternalReference(under node: xmlNodePtr?) -> String? {
        var child = node?.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE {
                let local = current.pointee.name.map { String(cString: $0) } ?? ""
                let namespace = current.pointee.ns?.pointee.href.map { String(cString: $0) }
                if namespace == xsdNamespace, ["import", "include", "redefine", "override"].contains(local) {
                    return local
                }
                if let deeper = firstExternalReference(under: current) { return deeper }
            }
            child = current.pointee.next
        }
        return nil
    }

    /// `/Manifest/Consignments/Consignment[2]/BillOfLading`: local names, indexed where siblings share one.
    static func elementPath(_ element: xmlNodePtr) -> String {
        var parts: [String] = []
        var node: xmlNodePtr? = element
        while let current = node, current.pointee.type == XML_ELEMENT_NODE {
            let name = current.pointee.name.map { String(cString: $0) } ?? "?"
            var index = 0
            var total = 0
            var sibling = current.pointee.parent?.pointee.children
            while let candidate = sibling {
                if candidate.pointee.type == XML_ELEMENT_NODE, xmlStrEqual(candidate.pointee.name, current.pointee.name) != 0 {
                    total += 1
                    if candidate == current { index = total }
                }
                sibling = candidate.pointee.next
            }
            parts.append(total > 1 ? "\(name)[\(index)]" : name)
            node = current.pointee.parent
        }
        return "/" + parts.reversed().joined(separator: "/")
    }
}

/// Receives libxml2's structured errors for one schema parse or one validation (through the context
/// pointer, since a C callback cannot capture).
private final class ViolationCollector {
    var located: [XMLSchemaValidator.LocatedViolation] = []
    var dropped = 0

    var violations: [XMLSchemaViolation] { located.map(\.violation) }

    static let callback: xmlStructuredErrorFunc = { context, error in
        guard let context, let error else { return }
        let collector = Unmanaged<ViolationCollector>.fromOpaque(context).takeUnretainedValue()
        // Warnings (none in the shipped schemas' validation) do not make a document invalid.
        guard error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        guard collector.located.count < XMLSchemaValidator.maxViolations else {
            collector.dropped += 1
            return
        }
        var message = (error.pointee.message.map { String(cString: $0) } ?? "schema error")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // libxml2 quotes the offending value whole: a hostile 10 MB value must not become a 10 MB message.
        if message.count > maxMessageCharacters { message = message.prefix(maxMessageCharacters) + "…" }
        var element: xmlNodePtr?
        var path: String?
        var line = error.pointee.line > 0 ? Int(error.pointee.line) : nil
        if let raw = error.pointee.node {
            let node = raw.assumingMemoryBound(to: xmlNode.self)
            if node.pointee.type == XML_ELEMENT_NODE {
                element = node
                path = XMLSchemaValidator.elementPath(node)
                // Attribute errors come with the element as node; the message names the attribute.
                if let attribute = attributeName(in: message) { path! += "/@\(attribute)" }
            } else if node.pointee.type == XML_ATTRIBUTE_NODE, let parent = node.pointee.parent,
                      parent.pointee.type == XML_ELEMENT_NODE {
                // xmlAttr and xmlNode share their leading fields (type, name, parent), so these reads are sound.
                element = parent
                let attribute = node.pointee.name.map { String(cString: $0) } ?? "?"
                path = XMLSchemaValidator.elementPath(parent) + "/@\(attribute)"
            }
            if line == nil, let element {
                let number = xmlGetLineNo(element)
                if number > 0 { line = Int(number) }
            }
        }
        collector.located.append(.init(
            violation: XMLSchemaViolation(line: line, path: path, message: message),
            element: element))
    }

    private static let maxMessageCharacters = 400

    /// `unit` from libxml2's "Element '{ns}GrossWeight', attribute 'unit': ...".
    private static func attributeName(in message: String) -> String? {
        guard let start = message.range(of: ", attribute '") else { return nil }
        let rest = message[start.upperBound...]
        guard let end = rest.firstIndex(of: "'") else { return nil }
        let name = rest[..<end]
        return name.isEmpty ? nil : String(name)
    }
}
