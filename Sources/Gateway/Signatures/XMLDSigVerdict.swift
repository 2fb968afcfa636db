import Foundation

// Vocabulary of enveloped XML-DSig verification and signing: verdicts, codes, evidence, policy.
// No C here; the libxml2, OpenSSL and xmlsec concepts each live in one XMLDSig*.swift file.

/// A stable, dotted code for why an XML-DSig verification failed; quarantine, APERAK and the ledger key on it.
///
/// Codes are only ever added to. Each carries the plain words a sender may be told (`partnerReason`),
/// which never name the trust store, the agency's CA or the library that failed.
public struct XMLDSigFailureCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The dotted code, e.g. `sig.untrusted`.
    public var rawValue: String

    /// Wraps a code; prefer the named constants.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The root element carries no enveloped `ds:Signature` child.
    public static let missing = XMLDSigFailureCode(rawValue: "sig.missing")
    /// The signature or the document is not well-formed or not shaped as XML-DSig requires.
    public static let malformed = XMLDSigFailureCode(rawValue: "sig.malformed")
    /// The digest or signature value does not match: content changed after signing, or another key signed.
    public static let badSignature = XMLDSigFailureCode(rawValue: "sig.bad-signature")
    /// The signer's certificate does not chain to the agency's anchors (or its key usage is unfit).
    public static let untrusted = XMLDSigFailureCode(rawValue: "sig.untrusted")
    /// A certificate of the chain was outside its validity period at the validation time.
    public static let expired = XMLDSigFailureCode(rawValue: "sig.expired")
    /// The signer's certificate is on the agency's CRL.
    public static let revoked = XMLDSigFailureCode(rawValue: "sig.revoked")
    /// A signature, digest, canonicalization or transform algorithm outside the configured list.
    public static let weakAlgorithm = XMLDSigFailureCode(rawValue: "sig.weak-algorithm")
    /// The key info offers only a bare public key (`KeyValue`), never trusted.
    public static let keyValue = XMLDSigFailureCode(rawValue: "sig.key-value")
    /// The reference is not one same-document reference to the document element.
    public static let reference = XMLDSigFailureCode(rawValue: "sig.reference")
    /// The certificate is trusted but not one registered for the partner who dropped the file.
    public static let signerMismatch = XMLDSigFailureCode(rawValue: "sig.signer-mismatch")
    /// The document has a DOCTYPE (entities, external subsets): refused before anything is resolved.
    public static let unsafeXML = XMLDSigFailureCode(rawValue: "xml.unsafe")

    /// What the sender may be told, in plain words, with nothing about the trust store.
    public var partnerReason: String {
        switch self {
        case .missing: return "The XML document is not signed: its root element has no XML signature."
        case .malformed: return "The XML signature (or the XML document) is malformed and cannot be checked."
        case .badSignature:
            return "The XML signature does not match the document: it was changed after signing or signed with another key."
        case .untrusted:
            return "The XML signature was made with a certificate that is not accepted for this exchange."
        case .expired: return "The signing certificate was not valid at the time the file was received."
        case .revoked: return "The signing certificate has been revoked."
        case .weakAlgorithm:
            return "The XML signature uses an algorithm that is not accepted (use RSA or ECDSA with SHA-256 or stronger)."
        case .keyValue: return "The XML signature carries a bare public key instead of an X.509 certificate."
        case .reference: return "The XML signature does not cover the whole document: it must reference the root element."
        case .signerMismatch: return "The file is signed with a certificate that is not registered for this sender."
        case .unsafeXML: return "The XML document contains a document type declaration (DOCTYPE), which is not accepted."
        default: return "The XML signature could not be verified."
        }
    }

    /// The dotted code.
    public var description: String { rawValue }
}

/// The certificate that made a signature, kept as evidence and for binding the signer to the partner.
public struct XMLDSigSignerEvidence: Hashable, Sendable, Codable {
    /// Subject as an RFC 4514 string with UTF-8 kept (`openssl x509 -subject -nameopt RFC2253,-esc_msb`).
    public var subject: String
    /// Issuer, in the same form as `subject`.
    public var issuer: String
    /// Serial number, upper-case hex without separators.
    public var serialNumber: String
    /// SHA-256 of the DER certificate, lower-case hex without separators.
    public var sha256Fingerprint: String
    /// Start of the certificate's validity.
    public var notBefore: Date
    /// End of the certificate's validity.
    public var notAfter: Date
    /// The certificate as PEM.
    public var certificatePEM: String
    /// The issuers up to the trust anchor, as PEM, nearest first; empty when the chain was not built.
    public var chainPEM: [String]

    /// Creates evidence from its parts (tests, stored evidence).
    public init(subject: String, issuer: String, serialNumber: String, sha256Fingerprint: String,
                notBefore: Date, notAfter: Date, certificatePEM: String, chainPEM: [String] = []) {
        self.subject = subject
        self.issuer = issuer
        self.serialNumber = serialNumber
        self.sha256Fingerprint = sha256Fingerprint
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.certificatePEM = certificatePEM
        self.chainPEM = chainPEM
    }
}

/// Why a signed XML document was refused: a stable code, the operator's details and the sender's words.
public struct XMLDSigFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable code for quarantine, receipts and metrics.
    public var code: XMLDSigFailureCode
    /// For operators: names the algorithm, element, certificate, OpenSSL/xmlsec reason.
    public var operatorReason: String
    /// For the sender's APERAK: plain words, nothing about the trust store.
    public var partnerReason: String
    /// The signer's certificate when it was read before the failure (expired, revoked, mismatch...).
    public var signer: XMLDSigSignerEvidence?

    /// Creates a failure; the partner reason defaults to the code's plain words.
    public init(code: XMLDSigFailureCode, operatorReason: String, partnerReason: String? = nil,
                signer: XMLDSigSignerEvidence? = nil) {
        self.code = code
        self.operatorReason = operatorReason
        self.partnerReason = partnerReason ?? code.partnerReason
        self.signer = signer
    }

    /// "[code] operator reason".
    public var description: String { "[\(code)] \(operatorReason)" }
}

/// The outcome of verifying one signed XML document at one validation time.
public enum XMLDSigVerdict: Hashable, Sendable {
    /// The signature is valid, covers the document element, and was made by this certificate.
    case valid(signer: XMLDSigSignerEvidence)
    /// The document must not be routed; the failure says why.
    case failed(XMLDSigFailure)

    /// True for `.valid`.
    public var isValid: Bool {
        if case .valid = self { return true }
        return false
    }

    /// The failure code, or nil when valid.
    public var failureCode: XMLDSigFailureCode? {
        if case .failed(let failure) = self { return failure.code }
        return nil
    }

    /// The signer's certificate, when one was read (valid, or failed after reading it).
    public var signer: XMLDSigSignerEvidence? {
        switch self {
        case .valid(let signer): return signer
        case .failed(let failure): return failure.signer
        }
    }
}

/// Which trusted signers the partner who dropped the file may use.
public enum XMLDSigSignerRequirement: Hashable, Sendable {
    /// The signer's subject must equal one of these RFC 4514 strings (as `XMLDSigSignerEvidence.subject`).
    case subjects([String])
    /// Any certificate chaining to the agency's anchors (only for on-demand checks without a partner).
    case anyTrustedSigner
}

/// A signature algorithm the verifier may accept; SHA-1, MD5, DSA and HMAC are deliberately absent.
public enum XMLDSigSignatureAlgorithm: String, CaseIterable, Hashable, Sendable, Codable {
    /// RSA PKCS#1 v1.5 with SHA-256.
    case rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    /// RSA PKCS#1 v1.5 with SHA-384.
    case rsaSHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
    /// RSA PKCS#1 v1.5 with SHA-512.
    case rsaSHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
    /// ECDSA with SHA-256.
    case ecdsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    /// ECDSA with SHA-384.
    case ecdsaSHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
    /// ECDSA with SHA-512.
    case ecdsaSHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
}

/// A reference digest algorithm the verifier may accept; SHA-1 and MD5 are deliberately absent.
public enum XMLDSigDigestAlgorithm: String, CaseIterable, Hashable, Sendable, Codable {
    /// SHA-256.
    case sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    /// SHA-384.
    case sha384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
    /// SHA-512.
    case sha512 = "http://www.w3.org/2001/04/xmlenc#sha512"
}

/// Canonicalization and reference transform URIs the verifier accepts (not configurable: any other
/// transform, such as XPath or XSLT, could narrow what the reference covers or run code).
enum XMLDSigTransformURI {
    static let envelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    static let c14n = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    static let c14nWithComments = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
    static let excC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
    static let excC14NWithComments = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
    static let canonicalizations: Set<String> = [c14n, c14nWithComments, excC14N, excC14NWithComments]
    static let dsigNamespace = "http://www.w3.org/2000/09/xmldsig#"
}

/// What one partner's XML-DSig signatures may use, and how the document element is identified.
public struct XMLDSigPolicy: Hashable, Sendable {
    /// Accepted signature algorithms (default: RSA and ECDSA with SHA-256/384/512).
    public var signatureAlgorithms: Set<XMLDSigSignatureAlgorithm>
    /// Accepted reference digests (default: SHA-256/384/512).
    public var digestAlgorithms: Set<XMLDSigDigestAlgorithm>
    /// The attribute of the document element that `URI="#value"` may name (registered as an ID only there).
    public var rootIDAttribute: String
    /// Require a key usage of digitalSignature or nonRepudiation when the certificate restricts key usage.
    public var requireSigningKeyUsage: Bool

    /// Creates a policy; the defaults are the gateway's floor.
    public init(signatureAlgorithms: Set<XMLDSigSignatureAlgorithm> = Set(XMLDSigSignatureAlgorithm.allCases),
                digestAlgorithms: Set<XMLDSigDigestAlgorithm> = Set(XMLDSigDigestAlgorithm.allCases),
                rootIDAttribute: String = "Id", requireSigningKeyUsage: Bool = true) {
        self.signatureAlgorithms = signatureAlgorithms
        self.digestAlgorithms = digestAlgorithms
        self.rootIDAttribute = rootIDAttribute
        self.requireSigningKeyUsage = requireSigningKeyUsage
    }
}

/// A failure to load XML-DSig configuration (anchors, CRLs) or to sign, with a stable dotted code.
public struct XMLDSigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable code, e.g. `xmldsig.key-permissions`.
    public var code: String
    /// The file concerned, when there is one.
    public var path: String?
    /// The operator-facing explanation (never key material).
    public var message: String

    /// Creates an error.
    public init(code: String, path: String? = nil, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    /// "[code] path: message".
    public var description: String { "[\(code)] \(path.map { "\($0): " } ?? "")\(message)" }
}
