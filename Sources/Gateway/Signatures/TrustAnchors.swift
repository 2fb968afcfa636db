/// One agency's certification authority as the gateway trusts it: root and intermediate certificates
/// (PEM) and CRLs (PEM or DER), loaded from files the operator configured. Never the system store.
///
/// Until national PKI is unified every agency runs its own CA, so a verifier is built over exactly one
/// agency's anchors; a partner certificate from another agency's CA does not chain. Loading checks what
/// can be checked without a validation time (CA flags, a root present, intermediates and CRLs issued by
/// something in the set, CRL signatures) and every error names the file. Dates are not judged here:
/// expiry is a question for a validation time (`check-config` warns ahead of it from `certificates`).
public struct TrustAnchors: Sendable {
    /// The agency these anchors belong to (e.g. `CUSTOMS`), recorded in every verdict's evidence.
    public let agency: String
    /// The self-signed roots.
    public let roots: [CertificateEvidence]
    /// The intermediate CAs.
    public let intermediates: [CertificateEvidence]
    /// The CRLs, in the order loaded.
    public let crls: [CRLEvidence]
    /// The OpenSSL store built from them.
    let store: X509TrustStore

    /// Loads the certificate files (each one or more PEM certificates, roots and intermediates in any
    /// order) and CRL files.
    public init(agency: String, certificateFiles: [String], crlFiles: [String] = []) throws(SignatureError) {
        guard !certificateFiles.isEmpty else {
            throw SignatureError(code: "trust.no-certificate", path: "", message: "no CA certificate files configured for agency \(agency)")
        }
        var loaded: [(path: String, certificate: X509Certificate)] = []
        for path in certificateFiles {
            for certificate in try X509Certificate.readPEMFile(path) {
                guard certificate.isCA else {
                    throw SignatureError(code: "trust.not-ca", path: path,
                                         message: "\(certificate.subject) is not a CA certificate (basicConstraints CA:TRUE missing)")
                }
                loaded.append((path, certificate))
            }
        }
        let all = loaded.map(\.certificate)
        guard all.contains(where: \.isSelfSigned) else {
            throw SignatureError(code: "trust.no-root", path: certificateFiles.joined(separator: ", "),
                                 message: "no self-signed root CA among the certificates of agency \(agency)")
        }
        for (path, certificate) in loaded where !certificate.isSelfSigned {
            guard all.contains(where: { $0 !== certificate && $0.issued(certificate) }) else {
                throw SignatureError(code: "trust.orphan", path: path,
                                     message: "intermediate \(certificate.subject) was issued by \(certificate.issuer), which is not among the certificates of agency \(agency)")
            }
        }
        var crls: [X509RevocationList] = []
        for path in crlFiles {
            for crl in try X509RevocationList.readFile(path) {
                let issuers = all.filter { crl.isIssued(by: $0) }
                guard !issuers.isEmpty else {
                    throw SignatureError(code: "trust.crl-unknown-issuer", path: path,
                                         message: "CRL issued by \(crl.issuer), which is not among the certificates of agency \(agency)")
                }
                guard issuers.contains(where: { crl.signatureVerifies(with: $0) }) else {
                    throw SignatureError(code: "trust.crl-bad-signature", path: path,
                                         message: "the CRL's signature does not verify with \(crl.issuer)'s key")
                }
                crls.append(crl)
            }
        }
        self.agency = agency
        self.roots = all.filter(\.isSelfSigned).map(\.evidence)
        self.intermediates = all.filter { !$0.isSelfSigned }.map(\.evidence)
        self.crls = crls.map(\.evidence)
        self.store = try X509TrustStore(certificates: all, crls: crls)
    }

    /// Whether any CRL is configured (revocation is then checked for every certificate in a chain).
    public var hasCRLs: Bool { !crls.isEmpty }
}
