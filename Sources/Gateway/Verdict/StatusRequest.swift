import CLibXML2
import Foundation

// Issue 7, "a status-request file a carrier can drop to get a status file back (for partners that can only drop
// and pick up files)": schemas/status-request-1.xsd names bills of lading, containers or manifests; the reply is
// one status file (status-1.xsd, or CUSRES) with the combined state of each consignment the partner may see.

/// A partner's request for the state of its goods.
public struct StatusRequest: Sendable, Hashable {
    /// The partner's own number for the request: the reply's InReplyTo (CUSRES `RFF+ACW`).
    public var reference: String
    /// What it asks about, in its order, each once.
    public var objects: [InstructionObject]
}

public enum XMLStatusRequestMapping {
    /// Validates `bytes` against status-request-1.xsd, then reads them; every refusal when they do not read.
    public static func request(from bytes: [UInt8]) -> Result<StatusRequest, XMLManifestMapping.Failure> {
        let document: XMLDSigXMLDocument
        switch XMLInstructionMapping.validated(bytes, against: .statusRequest, code: "status-request") {
        case .success(let valid): document = valid
        case .failure(let failure): return .failure(failure)
        }
        guard let root = document.root else {
            return .failure(XMLManifestMapping.Failure(errors: [ManifestMappingError(code: "status-request.xml-malformed", location: "document",
                                                                                     message: "no root element")]))
        }
        return withExtendedLifetime(document) {
            var reference = ""
            var objects: [InstructionObject] = []
            var seen: Set<InstructionObject> = []
            for child in XMLElementReader.elements(root) {
                let text = XMLElementReader.text(child)
                let object: InstructionObject
                switch XMLElementReader.name(child) {
                case "Reference": reference = text; continue
                case "Bill": object = InstructionObject(kind: .bill, reference: text)
                case "Container": object = InstructionObject(kind: .container, reference: text)
                case "Manifest": object = InstructionObject(kind: .manifest, reference: text)
                default: continue
                }
                if seen.insert(object).inserted { objects.append(object) }
            }
            return .success(StatusRequest(reference: reference, objects: objects))
        }
    }
}
