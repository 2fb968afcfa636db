import Foundation
import NIOConcurrencyHelpers

/// The signature check of one file against its partner's policy, shared by the pipeline's process step and
/// `gateway verify`, so both reach the same verdict.
///
/// Which check: a detached signature that arrived with the file (`NAME.p7s`) is a CMS detached signature; a
/// `.p7m` file of a partner that uses `cms-enveloping` is verified and its content taken out; an XML file of a
/// partner that uses `xmldsig` carries its signature inside. Each agency named in the partner's `trust` is tried
/// with its own anchors only (never the system store); the first that accepts wins. Without a signature, a
/// partner whose policy requires one is refused (`sig.missing`); one whose policy does not is let through.
///
/// The validation time is the file's receipt time, so a rerun months later reaches the same verdict.
public final class SignatureGate: Sendable {
    /// What the check decided.
    public enum Decision: Sendable {
        /// No signature, and none required: nothing to record.
        case notRequired
        /// Accepted; for an enveloping signature, `content` is what was signed (to be judged instead of the file).
        case verified(SignatureVerdictEvidence, content: [UInt8]?)
        /// Refused, with a stable code, the operator's reason and the partner's plain-words reason.
        case refused(SignatureVerdictEvidence)
        /// The trust configuration cannot be used (a CA file unreadable or expired): an operator must fix it.
        case unavailable(code: String, reason: String)
    }

    let configuration: GatewayConfiguration
    private let cms = NIOLockedValueBox([String: CMSVerifier]())
    private let signer = NIOLockedValueBox<CMSSigner?>(nil)
    private let xml = NIOLockedValueBox([String: XMLDSigVerifier]())

    /// A gate over `configuration`'s agencies; anchors are loaded on first use and kept.
    public init(configuration: GatewayConfiguration) {
        self.configuration = configuration
    }

    /// Checks `content` (the exact bytes received as `fileName`) with its detached signature, if one came.
    public func check(partner: PartnerConfiguration, fileName: String, content: [UInt8], detachedSignature: [UInt8]?,
                      receivedAt: Date) -> Decision {
        let policy = partner.signature
        let trust = policy.trust.joined(separator: ",")
        let lower = fileName.lowercased()
        let looksXML = GatewayPipeline.looksLikeXML(content.prefix(512))
        let format: SignatureFormat?
        if detachedSignature != nil {
            format = .cmsDetached
        } else if policy.formats.contains(.cmsEnveloping) && (lower.hasSuffix(".p7m") || content.first == 0x30) {
            format = .cmsEnveloping
        } else if policy.formats.contains(.xmldsig) && looksXML {
            format = .xmldsig
        } else {
            format = nil
        }
        guard let format else {
            guard policy.required else { return .notRequired }
            let expected = policy.formats.map { f -> String in
                switch f {
                case .cmsDetached: "\(fileName).p7s beside it"
                case .cmsEnveloping: "a .p7m signed file"
                case .xmldsig: "an XML signature inside the document"
                }
            }.joined(separator: " or ")
            return .refused(SignatureVerdictEvidence(
                format: "none", valid: false, code: SignatureFailureCode.missing.rawValue,
                reason: "no signature came with \(fileName) (expected \(expected))",
                partnerReason: SignatureFailureCode.missing.partnerReason, trust: trust, validationTime: receivedAt))
        }
        if policy.trust.isEmpty {
            return .unavailable(code: "trust.none", reason: "partner \(partner.id) signs its files but names no agency CA under [partner.signature] trust")
        }
        var refusals: [SignatureVerdictEvidence] = []
        for agency in policy.trust {
            let decision: Decision
            switch format {
            case .cmsDetached, .cmsEnveloping:
                decision = checkCMS(format: format, agency: agency, partner: partner, content: content,
                                    signature: detachedSignature, at: receivedAt)
            case .xmldsig:
                decision = checkXML(agency: agency, partner: partner, content: content, at: receivedAt)
            }
            switch decision {
            case .verified, .unavailable, .notRequired: return decision
            case .refused(let evidence): refusals.append(evidence)
            }
        }
        // Every agency refused: report the most telling refusal (a chain that did not reach an agency's anchors
        // says less than an expired, revoked or tampered signature that did).
        let best = refusals.first { $0.code != SignatureFailureCode.untrusted.rawValue } ?? refusals[0]
        return .refused(best)
    }

    /// A detached CMS signature (DER) over `bytes` with the gateway's own key, for partners that require signed
    /// files from us ([partner.signature] sign_outbound). The key is loaded once (its file's permissions checked).
    public func signOutbound(_ bytes: [UInt8]) throws(SignatureError) -> [UInt8] {
        if let loaded = signer.withLockedValue({ $0 }) { return try loaded.signDetached(bytes) }
        guard let identity = configuration.signing else {
            throw SignatureError(code: "signer.none", path: "",
                                 message: "a partner requires signed files, but [gateway] has no signing_key and signing_certificate")
        }
        let loaded = try CMSSigner(certificateFile: identity.certificate, privateKeyFile: identity.key)
        signer.withLockedValue { $0 = loaded }
        return try loaded.signDetached(bytes)
    }

    // MARK: - CMS

    private func checkCMS(format: SignatureFormat, agency: String, partner: PartnerConfiguration, content: [UInt8],
                          signature: [UInt8]?, at time: Date) -> Decision {
        let verifier: CMSVerifier
        do {
            verifier = try cmsVerifier(agency: agency, partner: partner)
        } catch {
            return .unavailable(code: error.code, reason: error.description)
        }
        let binding = SignerBinding(partner: partner.id, subjects: partner.signature.subjects,
                                    serialNumbers: partner.signature.serials)
        do {
            if format == .cmsDetached, let signature {
                let verdict = try verifier.verifyDetached(content: content, signature: signature, signer: binding, at: time)
                let evidence = Self.evidence(verdict, format: format, signature: signature)
                return verdict.isValid ? .verified(evidence, content: nil) : .refused(evidence)
            }
            let enveloped = try verifier.verifyEnveloping(content, signer: binding, at: time)
            let evidence = Self.evidence(enveloped.verdict, format: format, signature: content)
            if enveloped.verdict.isValid, let inner = enveloped.content { return .verified(evidence, content: inner) }
            return .refused(evidence)
        } catch {
            return .unavailable(code: error.code, reason: error.description)
        }
    }

    private func cmsVerifier(agency: String, partner: PartnerConfiguration) throws(SignatureError) -> CMSVerifier {
        let key = agency + "/" + partner.id
        if let cached = cms.withLockedValue({ $0[key] }) { return cached }
        guard let trust = configuration.partner(id: agency)?.trust else {
            throw SignatureError(code: "trust.none", path: "", message: "agency \(agency) has no [partner.trust] table")
        }
        let anchors = try TrustAnchors(agency: agency, certificateFiles: trust.certificates, crlFiles: trust.crls)
        let policy = SignaturePolicy(revocation: trust.requireCRL ? .required : .whereConfigured,
                                     allowedDigests: Set(partner.signature.algorithms.map { $0.uppercased() }))
        let verifier = try CMSVerifier(anchors: anchors, policy: policy)
        cms.withLockedValue { $0[key] = verifier }
        return verifier
    }

    static func evidence(_ verdict: SignatureVerdict, format: SignatureFormat, signature: [UInt8]) -> SignatureVerdictEvidence {
        let e = verdict.evidence
        return SignatureVerdictEvidence(
            format: format.rawValue, valid: verdict.isValid, code: verdict.code?.rawValue,
            reason: verdict.isValid ? "valid: signed by \(e.signer?.subject ?? "?") under agency \(e.agency)"
                : verdict.failure?.operatorReason ?? "refused",
            partnerReason: verdict.failure?.partnerReason ?? "signature verified",
            signatureSha256: try? SHA256Digest.hash(signature).hex,
            signerSubject: e.signer?.subject, signerIssuer: e.signer?.issuer, signerSerial: e.signer?.serialNumber,
            signerFingerprint: e.signer?.sha256Fingerprint,
            chainPEM: e.chain.isEmpty ? nil : e.chain.map(\.pem).joined(),
            crlSha256: e.crls.first?.sha256,
            algorithms: [e.digestAlgorithm, e.signatureAlgorithm].compactMap { $0 }.joined(separator: " "),
            trust: e.agency, validationTime: e.validationTime)
    }

    // MARK: - XML-DSig

    private func checkXML(agency: String, partner: PartnerConfiguration, content: [UInt8], at time: Date) -> Decision {
        let verifier: XMLDSigVerifier
        do {
            verifier = try xmlVerifier(agency: agency)
        } catch {
            return .unavailable(code: error.code, reason: error.message)
        }
        let requirement: XMLDSigSignerRequirement = .subjects(partner.signature.subjects)
        let verdict = verifier.verify(content, at: time, signer: requirement)
        let signer = verdict.signer
        let failure: XMLDSigFailure? = { if case .failed(let f) = verdict { f } else { nil } }()
        let evidence = SignatureVerdictEvidence(
            format: SignatureFormat.xmldsig.rawValue, valid: verdict.isValid, code: verdict.failureCode?.rawValue,
            reason: verdict.isValid ? "valid: signed by \(signer?.subject ?? "?") under agency \(agency)"
                : failure?.operatorReason ?? "refused",
            partnerReason: failure?.partnerReason ?? "signature verified",
            signatureSha256: nil, signerSubject: signer?.subject, signerIssuer: signer?.issuer,
            signerSerial: signer?.serialNumber, signerFingerprint: signer?.sha256Fingerprint,
            chainPEM: signer.map { $0.certificatePEM + $0.chainPEM.joined() }, trust: agency, validationTime: time)
        return verdict.isValid ? .verified(evidence, content: nil) : .refused(evidence)
    }

    private func xmlVerifier(agency: String) throws(XMLDSigError) -> XMLDSigVerifier {
        if let cached = xml.withLockedValue({ $0[agency] }) { return cached }
        guard let trust = configuration.partner(id: agency)?.trust else {
            throw XMLDSigError(code: "trust.none", path: nil, message: "agency \(agency) has no [partner.trust] table")
        }
        let anchors = try XMLDSigTrustAnchors.load(agency: agency, certificateFiles: trust.certificates, crlFiles: trust.crls)
        let verifier = try XMLDSigVerifier(anchors: anchors)
        xml.withLockedValue { $0[agency] = verifier }
        return verifier
    }
}
