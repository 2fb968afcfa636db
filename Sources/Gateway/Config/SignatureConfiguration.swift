// The signature side of the configuration (issue 4): each agency's trust anchors, each partner's signature
// policy, and the gateway's own signing identity. Parsed and cross-checked here; the files they name are
// loaded and checked (expiry, CRLs) by the signature module.

/// An agency's own certificate authority: the only anchors its partners' signatures may chain to.
public struct TrustConfiguration: Sendable, Hashable {
    /// PEM files with the agency's root and intermediate CA certificates (absolute paths).
    public var certificates: [String]
    /// PEM or DER CRL files of those CAs (absolute paths).
    public var crls: [String]
    /// Refuse a signature when no CRL of the issuing CA is configured and current.
    public var requireCRL: Bool

    /// Creates a trust configuration.
    public init(certificates: [String], crls: [String] = [], requireCRL: Bool = true) {
        self.certificates = certificates
        self.crls = crls
        self.requireCRL = requireCRL
    }
}

/// How a partner signs what it sends (the format of the signature beside or around its file).
public enum SignatureFormat: String, Sendable, Hashable, Codable, CaseIterable {
    /// `NAME.p7s` beside `NAME`: a detached CMS signature (DER or PEM).
    case cmsDetached = "cms-detached"
    /// `NAME.p7m`: the content inside a CMS signed-data, extracted only after verification.
    case cmsEnveloping = "cms-enveloping"
    /// An enveloped XML-DSig inside the XML document.
    case xmldsig
}

/// A partner's signature policy: whether its files must be signed, by whom, chained to which agency's CA.
public struct PartnerSignaturePolicy: Sendable, Hashable {
    /// Files without a good signature are quarantined (never routed).
    public var required: Bool
    /// Ids of the agency partners whose CA the signer's certificate must chain to.
    public var trust: [String]
    /// Certificate subjects that belong to this partner (as `openssl x509 -subject -nameopt RFC2253` prints them).
    public var subjects: [String]
    /// Certificate serial numbers (hex) that belong to this partner.
    public var serials: [String]
    /// The signature formats the partner uses.
    public var formats: [SignatureFormat]
    /// Digest algorithms accepted (MD5 and SHA-1 are never accepted).
    public var algorithms: [String]
    /// The gateway signs what it sends this partner (needs [gateway] signing_key and signing_certificate).
    public var signOutbound: Bool

    /// The default: signatures not required, none checked, nothing signed.
    public init(required: Bool = false, trust: [String] = [], subjects: [String] = [], serials: [String] = [],
                formats: [SignatureFormat] = [.cmsDetached], algorithms: [String] = PartnerSignaturePolicy.defaultAlgorithms,
                signOutbound: Bool = false) {
        self.required = required
        self.trust = trust
        self.subjects = subjects
        self.serials = serials
        self.formats = formats
        self.algorithms = algorithms
        self.signOutbound = signOutbound
    }

    /// Digest algorithms accepted when the partner's table does not say.
    public static let defaultAlgorithms = ["sha256", "sha384", "sha512"]
    /// Digest algorithms a configuration may list.
    public static let knownAlgorithms = ["sha224", "sha256", "sha384", "sha512", "sha3-256", "sha3-384", "sha3-512"]
}

extension PartnerConfiguration {
    /// The suffix of this partner's detached signatures (`.p7s`) when it signs that way: such files are never
    /// data, and each data file is claimed together with its `NAME.p7s`.
    public var detachedSignatureSuffix: String? {
        signature.formats.contains(.cmsDetached) && (signature.required || !signature.trust.isEmpty) ? ".p7s" : nil
    }
}

/// The gateway's own key and certificate, for the partners that require signed files from us.
public struct SigningIdentity: Sendable, Hashable {
    /// PEM private key file (must not be readable by group or others; checked when it is loaded).
    public var key: String
    /// PEM certificate file (with its chain after it, if any).
    public var certificate: String

    /// Creates a signing identity.
    public init(key: String, certificate: String) {
        self.key = key
        self.certificate = certificate
    }
}

extension Checker {
    /// `[partner.trust]`: only an agency has a CA of its own.
    mutating func trust(_ node: Node, at path: String, spoolRoot: String, role: PartnerRole?) -> TrustConfiguration? {
        guard var t = table(node, at: path) else { return nil }
        if let role, role != .agency {
            fail(path, "only an agency has its own CA; a \(role.rawValue) names the agency its certificates chain to "
                 + "under [partner.signature] trust")
        }
        let certificates = files(&t, "certificates", spoolRoot: spoolRoot, required: true)
        let crls = files(&t, "crls", spoolRoot: spoolRoot, required: false)
        let requireCRL = bool(&t, "require_crl") ?? true
        if requireCRL && crls.isEmpty && t.value("crls") == nil {
            fail(t.keyPath("crls"), "is missing while require_crl is true (the default): list the CA's CRL files, "
                 + "or set require_crl = false")
        }
        finish(t)
        return certificates.isEmpty ? nil : TrustConfiguration(certificates: certificates, crls: crls, requireCRL: requireCRL)
    }

    /// `[partner.signature]`.
    mutating func signaturePolicy(_ node: Node, at path: String) -> (PartnerSignaturePolicy, [(path: String, value: String)])? {
        guard var t = table(node, at: path) else { return nil }
        var policy = PartnerSignaturePolicy()
        policy.required = bool(&t, "required") ?? false
        let trust = strings(&t, "trust") ?? []
        policy.trust = trust.map(\.value)
        policy.subjects = (strings(&t, "subjects") ?? []).map(\.value)
        for (itemPath, serial) in strings(&t, "serials") ?? [] {
            let hex = serial.lowercased().filter { $0 != ":" }
            if hex.isEmpty || !hex.allSatisfy(\.isHexDigit) {
                fail(itemPath, "'\(serial)' is not a hexadecimal serial number (e.g. \"1A2B\" or \"1a:2b\")")
            } else {
                policy.serials.append(hex)
            }
        }
        if let items = strings(&t, "formats") {
            policy.formats = []
            for (itemPath, text) in items {
                if let format = SignatureFormat(rawValue: text) {
                    policy.formats.append(format)
                } else {
                    fail(itemPath, "'\(text)' is not a signature format (\(SignatureFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
            }
            if items.isEmpty { fail(t.keyPath("formats"), "is empty; leave it out for [\"cms-detached\"]") }
        }
        if let items = strings(&t, "algorithms") {
            policy.algorithms = []
            for (itemPath, text) in items {
                let name = text.lowercased()
                if ["md5", "sha1", "sha-1"].contains(name) {
                    fail(itemPath, "\(text) is broken for signatures and never accepted")
                } else if PartnerSignaturePolicy.knownAlgorithms.contains(name) {
                    policy.algorithms.append(name)
                } else {
                    fail(itemPath, "'\(text)' is not a digest algorithm (\(PartnerSignaturePolicy.knownAlgorithms.joined(separator: ", ")))")
                }
            }
            if items.isEmpty { fail(t.keyPath("algorithms"), "is empty, so no signature could ever verify") }
        }
        policy.signOutbound = bool(&t, "sign_outbound") ?? false
        if policy.required && trust.isEmpty {
            fail(t.keyPath("trust"), "is missing: a required signature must chain to an agency's CA (an agency partner id)")
        }
        if policy.required && policy.subjects.isEmpty && policy.serials.isEmpty {
            fail(t.keyPath("subjects"), "is missing: name the partner's certificate subjects (or serials), so a "
                 + "certificate of another partner of the same CA is refused")
        }
        finish(t)
        return (policy, trust)
    }

    /// A list of file paths, resolved against the spool root (they may lie outside it).
    mutating func files(_ t: inout Table, _ key: String, spoolRoot: String, required: Bool) -> [String] {
        guard let items = strings(&t, key) else {
            if required { fail(t.keyPath(key), "is missing: list the PEM files") }
            return []
        }
        if items.isEmpty && required { fail(t.keyPath(key), "is empty: list the PEM files") }
        var paths: [String] = []
        for (itemPath, text) in items {
            if let problem = Paths.problem(with: text, escapeAllowed: true) {
                fail(itemPath, problem)
            } else {
                paths.append(Paths.resolve(text, against: spoolRoot))
            }
        }
        return paths
    }

    /// Every `[partner.signature] trust` names an agency with a `[partner.trust]` table; `sign_outbound` needs
    /// the gateway's signing identity.
    mutating func crossCheckSignatures(hasSigningIdentity: Bool) {
        let anchors = Set(facts.filter(\.hasTrust).compactMap(\.id))
        let ids = Set(facts.compactMap(\.id))
        for p in facts {
            for (itemPath, agency) in p.signatureTrust where !anchors.contains(agency) {
                fail(itemPath, ids.contains(agency)
                     ? "partner '\(agency)' has no [partner.trust] table (its CA certificates)"
                     : "'\(agency)' is not a partner id; name the agency whose CA issues this partner's certificates")
            }
            if p.signsOutbound && !hasSigningIdentity {
                fail(p.path + ".signature.sign_outbound", "needs [gateway] signing_key and signing_certificate")
            }
        }
    }
}
