import CLibXML2
import Foundation

// The libxml2 side of XML-DSig: parsing received bytes without resolving anything, refusing DOCTYPEs,
// reading the shape of the enveloped signature, and registering the document element's ID.

/// The shape of an enveloped signature as found in the document, as plain Swift values.
struct XMLDSigSignatureLayout {
    /// One `ds:Reference`.
    struct Reference {
        var uri: String?
        var transforms: [String]
        var digestMethod: String?
        var unexpectedChildren: [String]
    }

    /// The `ds:KeyInfo` children.
    struct KeyInfo {
        var childNames: [String] = []
        var hasX509Data = false
        var hasKeyValue = false
        /// DER of every `X509Data/X509Certificate`, in document order.
        var certificates: [[UInt8]] = []
        var undecodableCertificates = 0
    }

    var rootName: String
    /// `ds:Signature` elements that are direct children of the document element.
    var signatureCount: Int
    /// `ds:Signature` elements anywhere else (a wrapped, signed element leaves one behind).
    var nestedSignatureCount: Int
    var signedInfoCount = 0
    var canonicalizationMethod: String?
    var signatureMethod: String?
    var signedInfoUnexpectedChildren: [String] = []
    /// `ds:Object` children of the signature: content outside any accepted reference.
    var signatureObjects = 0
    /// Children of the signature other than SignedInfo, SignatureValue, KeyInfo and Object.
    var signatureUnexpectedChildren: [String] = []
    var references: [Reference] = []
    var keyInfo: KeyInfo?
    /// The value of the configured ID attribute on the document element, if present.
    var rootIDValue: String?
}

/// A parsed XML document owned by Swift (xmlFreeDoc in deinit); lent to the xmlsec file only.
final class XMLDSigXMLDocument: @unchecked Sendable {
    let handle: xmlDocPtr

    private init(owning handle: xmlDocPtr) { self.handle = handle }

    deinit { xmlFreeDoc(handle) }

    /// What one parse saw, reached from the parser context's `_private` by the C callbacks.
    private final class ParseLog {
        var firstError: String?
        var resolverRequests: [String] = []
    }

    /// Parses `bytes` exactly as received: no network, no entity substitution, no DTD loading or
    /// validation, and an entity resolver that refuses everything. A DOCTYPE of any kind is refused
    /// (`xml.unsafe`): the gateway's signed formats have none, and a DTD could declare entities or
    /// ID attributes that change what a reference resolves to.
    ///
    /// `onlyValidated`: the tree is only validated, never signed, canonicalized or changed. The whitespace between
    /// elements is left out (`XML_PARSE_NOBLANKS`; the gateway's indented copies have as many such text nodes as
    /// elements, a tenth of their XSD check's time; text inside a leaf element is kept), and short texts are kept
    /// inside their nodes (`XML_PARSE_COMPACT`, one allocation less each; such a tree must not be modified).
    static func parse(_ bytes: [UInt8], onlyValidated: Bool = false) throws(XMLDSigFailure) -> XMLDSigXMLDocument {
        guard !bytes.isEmpty, bytes.count < Int(Int32.max) else {
            throw XMLDSigFailure(code: .malformed, operatorReason: "the document is empty or too large")
        }
        let log = ParseLog()
        let parsed: (doc: xmlDocPtr?, wellFormed: Bool) = bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            guard let context = xmlNewParserCtxt() else { return (nil, false) }
            defer { xmlFreeParserCtxt(context) }
            context.pointee._private = Unmanaged.passUnretained(log).toOpaque()
            if let sax = context.pointee.sax {
                // This context's own SAX table (xmlInitParserCtxt allocates it): nothing global changes.
                sax.pointee.resolveEntity = { context, publicID, systemID in
                    if let log = XMLDSigXMLDocument.log(of: context) {
                        let name = systemID.map { String(cString: $0) } ?? publicID.map { String(cString: $0) } ?? "?"
                        log.resolverRequests.append(name)
                    }
                    return nil
                }
                sax.pointee.serror = { context, error in
                    guard let log = XMLDSigXMLDocument.log(of: context), log.firstError == nil, let error else { return }
                    let message = error.pointee.message.map { String(cString: $0) } ?? "error"
                    log.firstError = "line \(error.pointee.line): \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
                }
            }
            // NONET (and NOBLANKS and COMPACT when only validated). Without NOENT, DTDLOAD, DTDATTR and DTDVALID,
            // xmlCtxtUseOptions sets replaceEntities, loadsubset and validate to 0 whatever the process-wide defaults say.
            let options = XML_PARSE_NONET.rawValue
                | (onlyValidated ? XML_PARSE_NOBLANKS.rawValue | XML_PARSE_COMPACT.rawValue : 0)
            let doc = xmlCtxtReadMemory(context, base, Int32(buffer.count), nil, nil, Int32(options))
            return (doc, context.pointee.wellFormed != 0)
        }
        let hasDoctype = parsed.doc.map { $0.pointee.intSubset != nil || $0.pointee.extSubset != nil } ?? false
        if !log.resolverRequests.isEmpty || hasDoctype {
            if let doc = parsed.doc { xmlFreeDoc(doc) }
            let external = log.resolverRequests.isEmpty
                ? "" : " (external resource \(log.resolverRequests[0]) was refused, not read)"
            throw XMLDSigFailure(code: .unsafeXML, operatorReason: "the document has a DOCTYPE\(external)")
        }
        guard let doc = parsed.doc, parsed.wellFormed else {
            if let doc = parsed.doc { xmlFreeDoc(doc) }
            throw XMLDSigFailure(code: .malformed,
                                 operatorReason: "not well-formed XML: \(log.firstError ?? "parse failed")",
                                 partnerReason: "The file is not well-formed XML.")
        }
        let document = XMLDSigXMLDocument(owning: doc)
        guard document.root != nil else {
            throw XMLDSigFailure(code: .malformed, operatorReason: "the document has no root element",
                                 partnerReason: "The file is not well-formed XML.")
        }
        return document
    }

    private static func log(of context: UnsafeMutableRawPointer?) -> ParseLog? {
        // userData defaults to the parser context itself, for both callbacks.
        guard let context else { return nil }
        let parser = context.assumingMemoryBound(to: xmlParserCtxt.self)
        guard let raw = parser.pointee._private else { return nil }
        return Unmanaged<ParseLog>.fromOpaque(raw).takeUnretainedValue()
    }

    /// The document element (the element the gateway processes).
    var root: xmlNodePtr? { xmlDocGetRootElement(handle) }

    /// The enveloped `ds:Signature` child of the document element, when there is exactly one.
    var signatureNode: xmlNodePtr? {
        guard let root else { return nil }
        let found = Self.elementChildren(of: root).filter { Self.isDSig($0, "Signature") }
        return found.count == 1 ? found[0] : nil
    }

    // MARK: Reading the layout

    /// The element children of `node`, in document order (text, comments and the rest skipped).
    static func elementChildren(of node: xmlNodePtr) -> [xmlNodePtr] {
        var result: [xmlNodePtr] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE { result.append(current) }
            child = current.pointee.next
        }
        return result
    }

    private static func localName(_ node: xmlNodePtr) -> String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    private static func namespace(_ node: xmlNodePtr) -> String? {
        node.pointee.ns?.pointee.href.map { String(cString: $0) }
    }

    private static func isDSig(_ node: xmlNodePtr, _ name: String) -> Bool {
        localName(node) == name && namespace(node) == XMLDSigTransformURI.dsigNamespace
    }

    private static func qualifiedName(_ node: xmlNodePtr) -> String {
        let ns = namespace(node)
        return ns == XMLDSigTransformURI.dsigNamespace ? "ds:\(localName(node))"
            : ns.map { "{\($0)}\(localName(node))" } ?? localName(node)
    }

    /// An attribute without namespace, or nil when absent (an empty value stays "").
    private static func attribute(_ node: xmlNodePtr, _ name: String) -> String? {
        guard let value = xmlGetNoNsProp(node, name) else { return nil }
        defer { swg_xmlFree(value) }
        return String(cString: value)
    }

    private static func text(_ node: xmlNodePtr) -> String {
        guard let content = xmlNodeGetContent(node) else { return "" }
        defer { swg_xmlFree(content) }
        return String(cString: content)
    }

    private static func countSignatures(under node: xmlNodePtr) -> Int {
        var count = 0
        for child in elementChildren(of: node) {
            if isDSig(child, "Signature") { count += 1 }
            count += countSignatures(under: child)
        }
        return count
    }

    /// Reads what the verifier's policy needs, without judging it.
    func layout(rootIDAttribute: String) -> XMLDSigSignatureLayout {
        let root = self.root!
        let rootChildren = Self.elementChildren(of: root)
        let signatures = rootChildren.filter { Self.isDSig($0, "Signature") }
        let total = Self.countSignatures(under: root)
        var layout = XMLDSigSignatureLayout(
            rootName: Self.qualifiedName(root), signatureCount: signatures.count,
            nestedSignatureCount: total - signatures.count,
            rootIDValue: Self.attribute(root, rootIDAttribute))
        guard signatures.count == 1 else { return layout }
        for part in Self.elementChildren(of: signatures[0]) {
            if Self.isDSig(part, "SignedInfo") {
                layout.signedInfoCount += 1
                readSignedInfo(part, into: &layout)
            } else if Self.isDSig(part, "KeyInfo") {
                layout.keyInfo = readKeyInfo(part)
            } else if Self.isDSig(part, "Object") {
                layout.signatureObjects += 1
            } else if !Self.isDSig(part, "SignatureValue") {
                layout.signatureUnexpectedChildren.append(Self.qualifiedName(part))
            }
        }
        return layout
    }

    private func readSignedInfo(_ signedInfo: xmlNodePtr, into layout: inout XMLDSigSignatureLayout) {
        for child in Self.elementChildren(of: signedInfo) {
            if Self.isDSig(child, "CanonicalizationMethod") {
                layout.canonicalizationMethod = Self.attribute(child, "Algorithm")
            } else if Self.isDSig(child, "SignatureMethod") {
                layout.signatureMethod = Self.attribute(child, "Algorithm")
            } else if Self.isDSig(child, "Reference") {
                var reference = XMLDSigSignatureLayout.Reference(
                    uri: Self.attribute(child, "URI"), transforms: [], digestMethod: nil, unexpectedChildren: [])
                for part in Self.elementChildren(of: child) {
                    if Self.isDSig(part, "Transforms") {
                        for transform in Self.elementChildren(of: part) {
                            reference.transforms.append(Self.isDSig(transform, "Transform")
                                ? Self.attribute(transform, "Algorithm") ?? "" : Self.qualifiedName(transform))
                        }
                    } else if Self.isDSig(part, "DigestMethod") {
                        reference.digestMethod = Self.attribute(part, "Algorithm")
                    } else if !Self.isDSig(part, "DigestValue") {
                        reference.unexpectedChildren.append(Self.qualifiedName(part))
                    }
                }
                layout.references.append(reference)
            } else {
                layout.signedInfoUnexpectedChildren.append(Self.qualifiedName(child))
            }
        }
    }

    private func readKeyInfo(_ keyInfo: xmlNodePtr) -> XMLDSigSignatureLayout.KeyInfo {
        var result = XMLDSigSignatureLayout.KeyInfo()
        for child in Self.elementChildren(of: keyInfo) {
            result.childNames.append(Self.qualifiedName(child))
            if Self.isDSig(child, "KeyValue") { result.hasKeyValue = true }
            guard Self.isDSig(child, "X509Data") else { continue }
            result.hasX509Data = true
            for item in Self.elementChildren(of: child) where Self.isDSig(item, "X509Certificate") {
                let base64 = Self.text(item).filter { !$0.isWhitespace }
                if let der = Data(base64Encoded: base64), !der.isEmpty {
                    result.certificates.append([UInt8](der))
                } else {
                    result.undecodableCertificates += 1
                }
            }
        }
        return result
    }

    // MARK: IDs

    /// Registers the document element's `attribute` as its XML ID and checks that `value` now resolves to
    /// it: an earlier `xml:id` with the same value, or any other claim on it, makes this false.
    func registerRootID(attribute name: String, value: String) -> Bool {
        guard let root, let attribute = xmlHasNsProp(root, name, nil) else { return false }
        if xmlGetID(handle, value) == nil {
            guard xmlAddID(nil, handle, value, attribute) != nil else { return false }
        }
        return xmlGetID(handle, value) == attribute
    }

    // MARK: Output

    /// The document serialized as UTF-8 (for signed output only; received bytes are never re-serialized).
    func serialized() -> [UInt8] {
        var memory: UnsafeMutablePointer<xmlChar>?
        var size: Int32 = 0
        xmlDocDumpMemoryEnc(handle, &memory, &size, "UTF-8")
        guard let memory else { return [] }
        defer { swg_xmlFree(memory) }
        return Array(UnsafeBufferPointer(start: memory, count: Int(size)))
    }
}
