import CLibXML2
import Foundation

// The project's XML instruction (schemas/instruction-1.xsd, urn:swg:instruction:1) → an agency instruction
// (issue 7), for agencies that drop XML rather than CUSRES. As for the XML manifest: parsed safely (no DOCTYPE,
// no network), validated against the shipped schema, then the rules the schema cannot say (ISO 6346 check
// digits). Every refusal names the line and element path.

public enum XMLInstructionMapping {
    /// Validates `bytes` against instruction-1.xsd, then maps them; every refusal when they do not map.
    public static func instruction(from bytes: [UInt8]) -> Result<AgencyInstruction, XMLManifestMapping.Failure> {
        func failure(_ code: String, _ location: String, _ message: String) -> Result<AgencyInstruction, XMLManifestMapping.Failure> {
            .failure(XMLManifestMapping.Failure(errors: [ManifestMappingError(code: code, location: location, message: message)]))
        }
        let document: XMLDSigXMLDocument
        switch validated(bytes, against: .instruction, code: "instruction") {
        case .success(let valid): document = valid
        case .failure(let failure): return .failure(failure)
        }
        guard let root = document.root else { return failure("instruction.xml-malformed", "document", "no root element") }
        return withExtendedLifetime(document) {
            var reference = "", action = InstructionAction.release, issuedAt: Date?, manifest: String?, note: String?
            var objects: [InstructionObject] = []
            var errors: [ManifestMappingError] = []
            for child in XMLElementReader.elements(root) {
                let text = XMLElementReader.text(child)
                switch XMLElementReader.name(child) {
                case "Reference": reference = text
                case "Action": action = InstructionAction(rawValue: text) ?? .release
                case "IssueTime": issuedAt = XMLTimestamp.parse(text)
                case "Manifest": manifest = text
                case "Note": note = text
                case "Bill": objects.append(InstructionObject(kind: .bill, reference: text))
                case "Container":
                    if ISO6346.isValid(text) {
                        objects.append(InstructionObject(kind: .container, reference: text))
                    } else {
                        errors.append(ManifestMappingError(code: "instruction.container-check-digit",
                                                           location: "line \(xmlGetLineNo(child)) /Instruction/Container",
                                                           message: XMLElementReader.checkDigitMessage(text)))
                    }
                default: break  // ds:Signature, the only other element the schema lets through
                }
            }
            guard errors.isEmpty else { return .failure(XMLManifestMapping.Failure(errors: errors)) }
            if objects.isEmpty, let manifest { objects = [InstructionObject(kind: .manifest, reference: manifest)] }
            var seen: Set<InstructionObject> = []
            objects = objects.map { var o = $0; o.manifest = o.kind == .manifest ? nil : manifest; return o }.filter { seen.insert($0).inserted }
            guard !objects.isEmpty else {
                return failure("instruction.no-object", "/Instruction", "the instruction names no Bill, Container or Manifest")
            }
            return .success(AgencyInstruction(reference: reference, action: action, objects: objects, issuedAt: issuedAt, note: note))
        }
    }

    /// `bytes` parsed safely (no DOCTYPE, no network, at most the mapping's size) and valid against a shipped
    /// schema; every refusal otherwise, as CODE.xml-unsafe, CODE.xml-malformed or CODE.xml-schema.
    static func validated(_ bytes: [UInt8], against schema: ManifestSchema, code: String) -> Result<XMLDSigXMLDocument, XMLManifestMapping.Failure> {
        func failure(_ suffix: String, _ location: String, _ message: String) -> Result<XMLDSigXMLDocument, XMLManifestMapping.Failure> {
            .failure(XMLManifestMapping.Failure(errors: [ManifestMappingError(code: "\(code).\(suffix)", location: location, message: message)]))
        }
        let document: XMLDSigXMLDocument
        do {
            document = try XMLSchemaValidator.parseDocument(bytes, maxBytes: XMLManifestMapping.maxDocumentBytes)
        } catch {
            return failure(error.kind == .unsafe ? "xml-unsafe" : "xml-malformed", "document", error.message)
        }
        let violations: [XMLSchemaValidator.LocatedViolation]
        do {
            violations = try XMLSchemaValidator.shipped(schema).validate(document: document)
        } catch {
            return failure("xml-schema", "schema", error.message)
        }
        if !violations.isEmpty {
            return .failure(XMLManifestMapping.Failure(errors: violations.map {
                ManifestMappingError(code: "\(code).xml-schema", location: $0.violation.location.isEmpty ? "document" : $0.violation.location,
                                     message: $0.violation.message)
            }))
        }
        return .success(document)
    }
}
