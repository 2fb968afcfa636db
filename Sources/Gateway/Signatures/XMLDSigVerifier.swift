import Foundation

/// Verifies enveloped XML-DSig signatures against one agency's trust anchors, over the exact received bytes.
///
/// Beyond what xmlsec checks by itself, it insists that: the document element carries exactly one
/// enveloped signature; that signature has exactly one same-document reference (`URI=""` or `#id` of the
/// document element itself), so a signed element moved elsewhere (signature wrapping) is refused; only
/// the policy's algorithms and the enveloped/c14n transforms appear; the key comes from an X.509
/// certificate chaining to the agency's anchors at the injected validation time (never an embedded
/// `KeyValue`); and that certificate belongs to the partner. The caller processes the document element
/// of the same bytes and skips the `ds:Signature` subtree (its `KeyInfo` is not covered by the digest).
public final class XMLDSigVerifier: Sendable {
    /// The agency whose anchors this verifier trusts.
    public let agency: String
    /// The algorithms and ID attribute accepted.
    public let policy: XMLDSigPolicy
    private let chain: XMLDSigChainValidator
    private let keysManager: XMLDSigKeysManager

    /// Loads the anchors into a chain validator and an xmlsec keys manager; throws on unusable anchors.
    public init(anchors: XMLDSigTrustAnchors, policy: XMLDSigPolicy = XMLDSigPolicy()) throws(XMLDSigError) {
        agency = anchors.agency
        self.policy = policy
        chain = try XMLDSigChainValidator(anchors)
        keysManager = try XMLDSigKeysManager(anchors: chain.anchors, crls: chain.crls, agency: anchors.agency)
    }

    /// Verifies `document` (the bytes exactly as received) as of `validationTime` (when the file was
    /// received, so a rerun reaches the same verdict) and binds the signer to `signer`.
    public func verify(_ document: [UInt8], at validationTime: Date,
                       signer requirement: XMLDSigSignerRequirement) -> XMLDSigVerdict {
        do throws(XMLDSigFailure) {
            return .valid(signer: try check(document, at: validationTime, requirement: requirement))
        } catch {
            return .failed(error)
        }
    }

    private func check(_ bytes: [UInt8], at time: Date,
                       requirement: XMLDSigSignerRequirement) throws(XMLDSigFailure) -> XMLDSigSignerEvidence {
        let document = try XMLDSigXMLDocument.parse(bytes)
        let layout = document.layout(rootIDAttribute: policy.rootIDAttribute)
        try checkShape(layout)
        try checkAlgorithms(layout)
        try checkReference(layout, document)
        let (leaf, intermediates) = try certificates(layout)

        var evidence = leaf.evidence()
        switch chain.validate(leaf: leaf, intermediates: intermediates, at: time,
                              requireSigningKeyUsage: policy.requireSigningKeyUsage) {
        case .refused(let code, let detail):
            throw XMLDSigFailure(code: code, operatorReason: detail, signer: evidence)
        case .trusted(let issuers):
            evidence = leaf.evidence(chain: issuers)
        }

        let outcome = keysManager.verify(document, policy: policy, at: time)
        let details = outcome.log.summary
        switch outcome.status {
        case .error:
            throw XMLDSigFailure(code: classify(outcome.log),
                                 operatorReason: "xmlsec could not verify: \(details.isEmpty ? "no detail" : details)",
                                 signer: evidence)
        case .invalid:
            let which = outcome.referenceCount > 0 && outcome.referencesSucceeded < outcome.referenceCount
                ? "the reference digest does not match the document element (content changed after signing)"
                : "the signature value does not verify with the key of \"\(evidence.subject)\""
            throw XMLDSigFailure(code: .badSignature, operatorReason: which, signer: evidence)
        case .succeeded:
            break
        }
        // Post-checks: what xmlsec actually used is what was checked above.
        guard outcome.referenceCount == 1, outcome.referencesSucceeded == 1 else {
            throw XMLDSigFailure(code: .reference, operatorReason:
                "xmlsec processed \(outcome.referenceCount) references (\(outcome.referencesSucceeded) matched); exactly one is required",
                signer: evidence)
        }
        guard let used = outcome.keyCertificateDER, used == leaf.der else {
            throw XMLDSigFailure(code: .untrusted, operatorReason:
                "xmlsec verified with a key other than the certificate \"\(evidence.subject)\" checked against agency \(agency)",
                signer: evidence)
        }

        if case .subjects(let subjects) = requirement, !subjects.contains(evidence.subject) {
            let expected = subjects.isEmpty ? "none registered" : subjects.map { "\"\($0)\"" }.joined(separator: ", ")
            throw XMLDSigFailure(code: .signerMismatch, operatorReason:
                "signed by \"\(evidence.subject)\" (serial \(evidence.serialNumber), issuer \"\(evidence.issuer)\"); the partner's signers: \(expected)",
                signer: evidence)
        }
        return evidence
    }

    private func checkShape(_ layout: XMLDSigSignatureLayout) throws(XMLDSigFailure) {
        if layout.signatureCount == 0 {
            if layout.nestedSignatureCount > 0 {
                throw XMLDSigFailure(code: .reference, operatorReason:
                    "the document element \(layout.rootName) has no enveloped ds:Signature child; \(layout.nestedSignatureCount) signature(s) sit deeper, covering other elements (signature wrapping?)")
            }
            throw XMLDSigFailure(code: .missing,
                                 operatorReason: "the document element \(layout.rootName) has no ds:Signature child")
        }
        guard layout.signatureCount == 1 else {
            throw XMLDSigFailure(code: .malformed, operatorReason:
                "the document element \(layout.rootName) has \(layout.signatureCount) ds:Signature children; one is accepted")
        }
        guard layout.signedInfoCount == 1 else {
            throw XMLDSigFailure(code: .malformed, operatorReason: "ds:Signature has \(layout.signedInfoCount) ds:SignedInfo")
        }
        guard layout.signedInfoUnexpectedChildren.isEmpty else {
            throw XMLDSigFailure(code: .malformed, operatorReason:
                "unexpected elements in ds:SignedInfo: \(layout.signedInfoUnexpectedChildren.joined(separator: ", "))")
        }
        if layout.signatureObjects > 0 {
            throw XMLDSigFailure(code: .reference, operatorReason:
                "ds:Signature carries \(layout.signatureObjects) ds:Object element(s): content no accepted reference can cover")
        }
        guard layout.signatureUnexpectedChildren.isEmpty else {
            throw XMLDSigFailure(code: .malformed, operatorReason:
                "unexpected elements in ds:Signature: \(layout.signatureUnexpectedChildren.joined(separator: ", "))")
        }
    }

    private func checkAlgorithms(_ layout: XMLDSigSignatureLayout) throws(XMLDSigFailure) {
        guard let c14n = layout.canonicalizationMethod else {
            throw XMLDSigFailure(code: .malformed, operatorReason: "ds:CanonicalizationMethod is missing")
        }
        guard XMLDSigTransformURI.canonicalizations.contains(c14n) else {
            throw XMLDSigFailure(code: .weakAlgorithm, operatorReason: "canonicalization \(c14n) is not accepted")
        }
        guard let method = layout.signatureMethod else {
            throw XMLDSigFailure(code: .malformed, operatorReason: "ds:SignatureMethod is missing")
        }
        guard let algorithm = XMLDSigSignatureAlgorithm(rawValue: method),
              policy.signatureAlgorithms.contains(algorithm) else {
            throw XMLDSigFailure(code: .weakAlgorithm, operatorReason: "signature algorithm \(method) is not accepted; "
                + "accepted: \(policy.signatureAlgorithms.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        for reference in layout.references {
            guard reference.unexpectedChildren.isEmpty else {
                throw XMLDSigFailure(code: .malformed, operatorReason:
                    "unexpected elements in ds:Reference: \(reference.unexpectedChildren.joined(separator: ", "))")
            }
            guard let digest = reference.digestMethod else {
                throw XMLDSigFailure(code: .malformed, operatorReason: "ds:DigestMethod is missing")
            }
            guard let digestAlgorithm = XMLDSigDigestAlgorithm(rawValue: digest),
                  policy.digestAlgorithms.contains(digestAlgorithm) else {
                throw XMLDSigFailure(code: .weakAlgorithm, operatorReason: "digest algorithm \(digest) is not accepted; "
                    + "accepted: \(policy.digestAlgorithms.map(\.rawValue).sorted().joined(separator: ", "))")
            }
            // Enveloped-signature and canonicalization never narrow what the reference covers; XPath,
            // XSLT, base64 and the like could, or could run code, so they are refused.
            for transform in reference.transforms
            where transform != XMLDSigTransformURI.envelopedSignature
                && !XMLDSigTransformURI.canonicalizations.contains(transform) {
                throw XMLDSigFailure(code: .weakAlgorithm, operatorReason: "reference transform \(transform) is not accepted")
            }
        }
    }

    private func checkReference(_ layout: XMLDSigSignatureLayout,
                                _ document: XMLDSigXMLDocument) throws(XMLDSigFailure) {
        guard layout.references.count == 1 else {
            throw XMLDSigFailure(code: .reference, operatorReason:
                "ds:SignedInfo has \(layout.references.count) references; exactly one, to the document element, is accepted")
        }
        guard let uri = layout.references[0].uri else {
            throw XMLDSigFailure(code: .reference, operatorReason: "the reference has no URI attribute")
        }
        if uri.isEmpty { return }  // the whole document, minus this signature (enveloped transform)
        guard uri.hasPrefix("#"), Self.isNCName(uri.dropFirst()) else {
            throw XMLDSigFailure(code: .reference, operatorReason:
                "reference URI \"\(uri)\" is not a same-document reference (\"\" or \"#id\")")
        }
        let id = String(uri.dropFirst())
        guard layout.rootIDValue == id else {
            throw XMLDSigFailure(code: .reference, operatorReason:
                "reference URI \"\(uri)\" does not name the document element \(layout.rootName) "
                + "(its \(policy.rootIDAttribute) is \(layout.rootIDValue.map { "\"\($0)\"" } ?? "absent")): "
                + "the signature covers another element (signature wrapping?)")
        }
        guard document.registerRootID(attribute: policy.rootIDAttribute, value: id) else {
            throw XMLDSigFailure(code: .reference, operatorReason:
                "ID \"\(id)\" is already claimed by another element; it cannot name the document element")
        }
    }

    /// The leaf certificate (the one no other names as issuer) and the rest, from `X509Data`.
    private func certificates(_ layout: XMLDSigSignatureLayout) throws(XMLDSigFailure) -> (XMLDSigX509, [XMLDSigX509]) {
        guard let keyInfo = layout.keyInfo else {
            throw XMLDSigFailure(code: .untrusted, operatorReason: "ds:Signature has no ds:KeyInfo: no certificate to check")
        }
        guard keyInfo.hasX509Data else {
            if keyInfo.hasKeyValue {
                throw XMLDSigFailure(code: .keyValue, operatorReason:
                    "ds:KeyInfo offers only a bare key (\(keyInfo.childNames.joined(separator: ", "))); only X.509 certificates are trusted")
            }
            throw XMLDSigFailure(code: .untrusted, operatorReason:
                "ds:KeyInfo has no ds:X509Data (children: \(keyInfo.childNames.joined(separator: ", ")))")
        }
        guard keyInfo.undecodableCertificates == 0 else {
            throw XMLDSigFailure(code: .malformed, operatorReason: "an ds:X509Certificate is not valid base64")
        }
        var parsed: [XMLDSigX509] = []
        for der in keyInfo.certificates {
            guard let certificate = XMLDSigX509(der: der) else {
                throw XMLDSigFailure(code: .malformed, operatorReason: "an ds:X509Certificate is not a DER certificate")
            }
            parsed.append(certificate)
        }
        guard !parsed.isEmpty else {
            throw XMLDSigFailure(code: .untrusted, operatorReason: "ds:X509Data carries no ds:X509Certificate")
        }
        let leaves = parsed.filter { candidate in
            !parsed.contains { other in other !== candidate && candidate.isNamedIssuer(of: other) }
        }
        guard leaves.count == 1, let leaf = leaves.first else {
            throw XMLDSigFailure(code: .malformed, operatorReason:
                "ds:X509Data holds \(leaves.count) unrelated end certificates; exactly one signer is accepted")
        }
        return (leaf, parsed.filter { $0 !== leaf })
    }

    private func classify(_ log: XMLDSigXMLSecErrorLog) -> XMLDSigFailureCode {
        // XMLSEC_ERRORS_R_*: 35 transform disabled, 31 invalid transform; 33 invalid URI type;
        // 45 key not found, 71...76 certificate verification.
        if log.contains(anyOf: [35]) { return .weakAlgorithm }
        if log.contains(anyOf: [33, 34]) { return .reference }
        if log.contains(anyOf: [73]) { return .revoked }
        if log.contains(anyOf: [75, 76]) { return .expired }
        if log.contains(anyOf: [45, 71, 72, 74]) { return .untrusted }
        return .malformed
    }

    /// An XML NCName, roughly: no colon, no spaces, no XPointer parentheses, not starting with a digit.
    private static func isNCName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }
}
