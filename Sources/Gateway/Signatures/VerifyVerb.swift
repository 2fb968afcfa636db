import Foundation

/// The exit status of `gateway verify`, as scripts read it.
public enum VerifyStatus: Int32, Sendable {
    /// The signature is valid, or none is required and none came.
    case valid = 0
    /// The signature is refused (missing where required included).
    case refused = 1
    /// A usage error: no partner to judge for, a file that cannot be read, a configuration with mistakes.
    case usage = 2
    /// The trust configuration cannot be used (a CA file unreadable, anchors without a root...).
    case trustUnusable = 3
}

/// `gateway verify FILE`: the pipeline's signature check (``SignatureGate/check``) on a file on disk, explained:
/// the format detected, each agency's anchors tried, the verdict and its code, the operator's reason and the
/// partner's words, the signer, the chain and the CRL used.
///
/// The validation time is `--at` or now; give the time the file was received to reach the pipeline's verdict.
public enum VerifyVerb {
    /// Checks the file at `filePath` for `partnerId` (else the partner whose drop directory holds it), with the
    /// detached signature at `signaturePath` (else `FILE.p7s` when present), as of `validationTime`.
    public static func run(
        filePath: String, partner partnerId: String?, signaturePath: String?, validationTime: Date, configPath: String,
        json: Bool, out: OutputSink, err: OutputSink
    ) -> VerifyStatus {
        defer { out.flush(); err.flush() }
        guard let configuration = ConfigurationLoader.loadReporting(path: configPath, err: err, nothingWas: "verified") else {
            return .usage
        }
        let cwd = Paths.currentDirectory()
        let absolute = Paths.resolve(filePath, against: cwd)
        let partner: PartnerConfiguration
        let partnerSource: String
        if let partnerId {
            guard let found = configuration.partner(id: partnerId) else {
                let ids = configuration.partners.map(\.id).joined(separator: ", ")
                err.line("no partner '\(partnerId)' is configured in \(configPath) (partners: \(ids.isEmpty ? "none" : ids))")
                return .usage
            }
            partner = found
            partnerSource = "--partner"
        } else if let found = configuration.partners.first(where: { absolute.hasPrefix($0.dropDirectory + "/") }) {
            partner = found
            partnerSource = "its drop directory holds the file"
        } else {
            err.line("\(filePath) is not in any partner's drop directory: name the partner whose signature policy applies with --partner")
            return .usage
        }

        let content: [UInt8]
        do {
            guard let bytes = try CMSVerifier.readFile(absolute) else {
                err.line("\(filePath): no such file")
                return .usage
            }
            content = bytes
        } catch {
            err.line("\(filePath): \(error.message)")
            return .usage
        }
        var signatureShown: String?
        var signature: [UInt8]?
        do {
            if let signaturePath {
                guard let bytes = try CMSVerifier.readFile(Paths.resolve(signaturePath, against: cwd)) else {
                    err.line("\(signaturePath): no such file (--signature)")
                    return .usage
                }
                signature = bytes
                signatureShown = signaturePath
            } else if let bytes = try CMSVerifier.readFile(absolute + ".p7s") {
                signature = bytes
                signatureShown = filePath + ".p7s"
            }
        } catch {
            err.line("\(error.path): \(error.message)")
            return .usage
        }

        let fileName = absolute.split(separator: "/").last.map(String.init) ?? filePath
        let gate = SignatureGate(configuration: configuration)
        let decision = gate.check(partner: partner, fileName: fileName, content: content, detachedSignature: signature,
                                  receivedAt: validationTime)
        var report = Report(file: filePath, size: content.count, sha256: (try? SHA256Digest.hash(content).hex) ?? "",
                            partner: partner.id, partnerFrom: partnerSource, policy: PolicyLine(partner.signature),
                            signatureFile: signatureShown, signatureSize: signature?.count,
                            validationTime: OperatorFormat.time(validationTime))
        if signature != nil && !partner.signature.formats.contains(.cmsDetached) {
            report.notes.append("partner \(partner.id)'s formats do not include cms-detached: the pipeline would take "
                                + "\(signatureShown ?? "the .p7s") as a file of its own, not as this file's signature")
        }

        let status: VerifyStatus
        switch decision {
        case .notRequired:
            report.verdict = "not-required"
            report.reason = "no signature required and none present"
            status = .valid
        case .unavailable(let code, let reason):
            report.verdict = "unavailable"
            report.code = code
            report.reason = reason
            status = .trustUnusable
        case .verified(let evidence, _):
            report.verdict = "valid"
            status = .valid
            report.explain(evidence, signature: signature, content: content, configuration: configuration)
        case .refused(let evidence):
            report.verdict = "refused"
            status = .refused
            report.explain(evidence, signature: signature, content: content, configuration: configuration)
        }
        report.agencies = anchorsTried(partner: partner, decision: decision, gate: gate, fileName: fileName, content: content,
                                       signature: signature, at: validationTime, configuration: configuration)
        report.exitStatus = status.rawValue
        out.write(json ? OperatorFormat.json(report) + "\n" : report.text())
        return status
    }

    /// Each agency the partner's certificates may chain to, with what its anchors made of the signature: the gate
    /// tries them in order and stops at the first that accepts (or cannot be used), so later ones were not tried.
    /// With several agencies each one's own verdict comes from the same check narrowed to that agency.
    private static func anchorsTried(
        partner: PartnerConfiguration, decision: SignatureGate.Decision, gate: SignatureGate, fileName: String,
        content: [UInt8], signature: [UInt8]?, at time: Date, configuration: GatewayConfiguration
    ) -> [AgencyLine] {
        if case .notRequired = decision { return [] }
        if case .refused(let evidence) = decision, evidence.format == "none" {
            return partner.signature.trust.map { AgencyLine(agency: $0, result: "not tried", configuration: configuration) }
        }
        var lines: [AgencyLine] = []
        var stopped = false
        for agency in partner.signature.trust {
            var line = AgencyLine(agency: agency, result: "not tried", configuration: configuration)
            if !stopped {
                let own: SignatureGate.Decision
                if partner.signature.trust.count == 1 {
                    own = decision
                } else {
                    var narrowed = partner
                    narrowed.signature.trust = [agency]
                    own = gate.check(partner: narrowed, fileName: fileName, content: content, detachedSignature: signature,
                                     receivedAt: time)
                }
                switch own {
                case .verified:
                    line.result = "valid"
                    stopped = true
                case .refused(let evidence):
                    line.result = "refused"
                    line.code = evidence.code
                case .unavailable(let code, let reason):
                    line.result = "unusable"
                    line.code = code
                    line.error = reason
                    stopped = true
                case .notRequired:
                    line.result = "not required"
                }
            }
            lines.append(line)
        }
        return lines
    }

    // MARK: - The report (the JSON keys are part of the interface: add, never rename)

    /// The partner's signature policy, in brief.
    struct PolicyLine: Encodable {
        var required: Bool
        var trust: [String]
        var formats: [String]
        var subjects: [String]
        var serials: [String]
        var algorithms: [String]

        init(_ policy: PartnerSignaturePolicy) {
            required = policy.required
            trust = policy.trust
            formats = policy.formats.map(\.rawValue)
            subjects = policy.subjects
            serials = policy.serials
            algorithms = policy.algorithms
        }
    }

    /// One certificate as `verify` shows it.
    struct CertificateLine: Encodable {
        var subject: String
        var issuer: String
        var serial: String
        var sha256Fingerprint: String
        var notBefore: String
        var notAfter: String
        @Nullable var publicKey: String? = nil

        init(_ certificate: CertificateEvidence) {
            subject = certificate.subject
            issuer = certificate.issuer
            serial = certificate.serialNumber
            sha256Fingerprint = certificate.sha256Fingerprint
            notBefore = OperatorFormat.time(certificate.notBefore)
            notAfter = OperatorFormat.time(certificate.notAfter)
            publicKey = certificate.publicKey
        }
    }

    /// One agency's anchors and what they made of the signature.
    struct AgencyLine: Encodable {
        var agency: String
        /// valid, refused, unusable, not tried.
        var result: String
        @Nullable var code: String? = nil
        @Nullable var error: String? = nil
        /// The CA certificates (subjects) and CRL files configured for it.
        var certificates: [String] = []
        var crls: [String] = []

        init(agency: String, result: String, configuration: GatewayConfiguration) {
            self.agency = agency
            self.result = result
            if let trust = configuration.partner(id: agency)?.trust,
               let anchors = try? TrustAnchors(agency: agency, certificateFiles: trust.certificates, crlFiles: trust.crls) {
                certificates = (anchors.roots + anchors.intermediates).map(\.subject)
                crls = anchors.crls.map { Paths.display($0.path, relativeTo: configuration.spoolRoot) }
            }
        }
    }

    /// The CRL that decided revocation, found among the agency's configured CRLs by its hash.
    struct CRLLine: Encodable {
        var sha256: String
        @Nullable var file: String? = nil
        @Nullable var issuer: String? = nil
        @Nullable var thisUpdate: String? = nil
        @Nullable var nextUpdate: String? = nil
        @Nullable var revoked: Int? = nil
    }

    /// What `verify` prints, as JSON or as text.
    struct Report: Encodable {
        var file: String
        var size: Int
        var sha256: String
        var partner: String
        /// How the partner was chosen: `--partner`, or its drop directory holds the file.
        var partnerFrom: String
        var policy: PolicyLine
        @Nullable var signatureFile: String? = nil
        @Nullable var signatureSize: Int? = nil
        var validationTime: String
        /// valid, refused, not-required, unavailable.
        var verdict = ""
        /// cms-detached, cms-enveloping, xmldsig, or none (no signature found).
        @Nullable var format: String? = nil
        @Nullable var code: String? = nil
        var reason = ""
        @Nullable var partnerReason: String? = nil
        /// The agency whose anchors reached the verdict (the agencies tried, for a missing signature).
        @Nullable var agency: String? = nil
        var agencies: [AgencyLine] = []
        @Nullable var signer: CertificateLine? = nil
        /// When the signer's validity dates are unknown (a refusal before its certificate was read).
        @Nullable var signerSubject: String? = nil
        @Nullable var signerIssuer: String? = nil
        @Nullable var signerSerial: String? = nil
        @Nullable var signerFingerprint: String? = nil
        /// The verified chain, signer first (CMS), or the signer's issuers (XML-DSig).
        var chain: [CertificateLine] = []
        @Nullable var chainPEM: String? = nil
        @Nullable var crl: CRLLine? = nil
        @Nullable var algorithms: String? = nil
        @Nullable var signatureSha256: String? = nil
        var notes: [String] = []
        var exitStatus: Int32 = 0

        init(file: String, size: Int, sha256: String, partner: String, partnerFrom: String, policy: PolicyLine,
             signatureFile: String?, signatureSize: Int?, validationTime: String) {
            self.file = file
            self.size = size
            self.sha256 = sha256
            self.partner = partner
            self.partnerFrom = partnerFrom
            self.policy = policy
            self.signatureFile = signatureFile
            self.signatureSize = signatureSize
            self.validationTime = validationTime
        }

        /// Fills the verdict's details from the gate's evidence, with what the signature and the configured
        /// anchors add: the signer's validity (from the chain, else the certificates the CMS carried) and the
        /// CRL file behind the recorded hash.
        mutating func explain(_ evidence: SignatureVerdictEvidence, signature: [UInt8]?, content: [UInt8],
                              configuration: GatewayConfiguration) {
            format = evidence.format
            code = evidence.code
            reason = evidence.reason
            partnerReason = evidence.partnerReason
            agency = evidence.trust
            algorithms = evidence.algorithms.flatMap { $0.isEmpty ? nil : $0 }
            signatureSha256 = evidence.signatureSha256
            chainPEM = evidence.chainPEM
            let chained = evidence.chainPEM.map(VerifyVerb.certificates(pem:)) ?? []
            chain = chained.map(CertificateLine.init)
            signerSubject = evidence.signerSubject
            signerIssuer = evidence.signerIssuer
            signerSerial = evidence.signerSerial
            signerFingerprint = evidence.signerFingerprint
            if let fingerprint = evidence.signerFingerprint {
                var known = chained
                if evidence.format == SignatureFormat.cmsDetached.rawValue, let signature {
                    known += VerifyVerb.carriedCertificates(signature)
                } else if evidence.format == SignatureFormat.cmsEnveloping.rawValue {
                    known += VerifyVerb.carriedCertificates(content)
                }
                signer = known.first { $0.sha256Fingerprint == fingerprint }.map(CertificateLine.init)
            }
            if let hash = evidence.crlSha256 {
                var line = CRLLine(sha256: hash)
                if let trust = configuration.partner(id: evidence.trust)?.trust,
                   let anchors = try? TrustAnchors(agency: evidence.trust, certificateFiles: trust.certificates, crlFiles: trust.crls),
                   let found = anchors.crls.first(where: { $0.sha256 == hash }) {
                    line.file = Paths.display(found.path, relativeTo: configuration.spoolRoot)
                    line.issuer = found.issuer
                    line.thisUpdate = OperatorFormat.time(found.lastUpdate)
                    line.nextUpdate = OperatorFormat.time(found.nextUpdate)
                    line.revoked = found.revokedCount
                }
                crl = line
            }
        }

        /// The text `verify` prints: the verdict first, then labelled facts, one per line.
        func text() -> String {
            var lines: [String] = []
            func fact(_ label: String, _ value: String) { lines.append("  " + pad(label, 12) + OperatorFormat.cell(value)) }
            switch verdict {
            case "valid": lines.append("\(file): valid signature")
            case "refused": lines.append("\(file): refused (\(code ?? "?"))")
            case "not-required": lines.append("\(file): no signature required and none present")
            default: lines.append("\(file): not checked: the trust configuration cannot be used (\(code ?? "?"))")
            }
            fact("file", "\(OperatorFormat.count(size, "byte")), sha256 \(sha256)")
            fact("partner", "\(partner) (\(partnerFrom))")
            var policyText = policy.required ? "signature required" : "signature not required"
            if !policy.trust.isEmpty { policyText += "; trust \(policy.trust.joined(separator: ", "))" }
            policyText += "; formats \(policy.formats.joined(separator: ", "))"
            fact("policy", policyText)
            if let signatureFile {
                fact("signature", "\(signatureFile) (\(OperatorFormat.count(signatureSize ?? 0, "byte")))")
            } else {
                fact("signature", "no detached signature (no --signature, no \(file).p7s)")
            }
            if let format { fact("format", format) }
            fact("checked at", "\(validationTime) (validation time)")
            if verdict == "not-required" {
                for note in notes { fact("note", note) }
                return lines.joined(separator: "\n") + "\n"
            }
            fact("verdict", verdict + (code.map { " \($0)" } ?? "") + (agency.map { ", agency \($0)" } ?? ""))
            fact("reason", reason)
            if let partnerReason { fact("partner text", partnerReason) }
            if let algorithms { fact("algorithms", algorithms) }
            if let signatureSha256 { fact("sig sha256", signatureSha256) }
            for note in notes { fact("note", note) }
            if !agencies.isEmpty {
                lines.append("anchors (\(agencies.count))")
                for a in agencies {
                    var line = "  \(a.agency): \(a.result)" + (a.code.map { " \($0)" } ?? "")
                    if let error = a.error { line += ": \(OperatorFormat.cell(error))" }
                    lines.append(line)
                    for subject in a.certificates { lines.append("    CA   \(subject)") }
                    for crl in a.crls { lines.append("    CRL  \(crl)") }
                }
            }
            if let signer {
                lines.append("signer      \(signer.subject)")
                fact("issuer", signer.issuer)
                fact("serial", signer.serial)
                fact("sha256", signer.sha256Fingerprint)
                fact("valid", "\(signer.notBefore) to \(signer.notAfter)")
                if let key = signer.publicKey { fact("key", key) }
            } else if let signerSubject {
                lines.append("signer      \(signerSubject)")
                if let signerIssuer { fact("issuer", signerIssuer) }
                if let signerSerial { fact("serial", signerSerial) }
                if let signerFingerprint { fact("sha256", signerFingerprint) }
            } else {
                lines.append("signer      unknown (no certificate could be read)")
            }
            if chain.isEmpty {
                lines.append("chain       not built")
            } else {
                // XML-DSig evidence keeps the signer's issuers only; say so rather than call it the chain.
                let withSigner = chain.first?.sha256Fingerprint == (signer?.sha256Fingerprint ?? signerFingerprint)
                lines.append(withSigner ? "chain (\(chain.count))" : "issuers (\(chain.count), above the signer)")
                lines += OperatorFormat.table(
                    ["SUBJECT", "SERIAL", "NOT AFTER"], chain.map { [$0.subject, $0.serial, $0.notAfter] }
                ).map { "  " + $0 }
            }
            if let crl {
                lines.append("crl         \(crl.file ?? "(not among the configured CRLs)")")
                if let issuer = crl.issuer { fact("issuer", issuer) }
                if let thisUpdate = crl.thisUpdate { fact("updates", "\(thisUpdate), next \(crl.nextUpdate ?? "-")") }
                if let revoked = crl.revoked { fact("revoked", OperatorFormat.count(revoked, "certificate")) }
                fact("sha256", crl.sha256)
            } else {
                lines.append("crl         none used")
            }
            return lines.joined(separator: "\n") + "\n"
        }

        private func pad(_ s: String, _ width: Int) -> String {
            s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
        }
    }

    // MARK: - Certificates from PEM text and CMS

    /// Every certificate in concatenated PEM blocks, in order (unreadable blocks are skipped).
    static func certificates(pem: String) -> [CertificateEvidence] {
        var result: [CertificateEvidence] = []
        var body: String?
        for line in pem.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("-----BEGIN CERTIFICATE-----") {
                body = ""
            } else if line.hasPrefix("-----END CERTIFICATE-----") {
                if let text = body, let der = Data(base64Encoded: text),
                   let certificate = X509Certificate.decode(der: [UInt8](der)) {
                    result.append(certificate.evidence)
                }
                body = nil
            } else if body != nil {
                body! += line.trimmingCharacters(in: .whitespaces)
            }
        }
        return result
    }

    /// The certificates a CMS signature carries (none when it does not decode).
    static func carriedCertificates(_ signature: [UInt8]) -> [CertificateEvidence] {
        guard case .success(let cms) = CMSSignedData.decode(signature) else { return [] }
        return cms.certificates.map(\.evidence)
    }
}
