import Foundation

// The vocabulary of signature checking: verdicts, failure codes and evidence. Plain Swift values, no
// OpenSSL: the one file that touches OpenSSL's X509/CMS types is OpenSSLCMS.swift.

/// A stable, dotted failure code (`sig.revoked`, ...) that receipts, quarantine and the ledger key on.
///
/// A struct rather than an enum so codes can be added without breaking anyone who switches on them
/// (the swift-nio `FileSystemError.Code` pattern). Codes are only ever added, never renamed.
public struct SignatureFailureCode: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The code as stored and printed, e.g. `sig.revoked`.
    public var rawValue: String

    /// Wraps a code string; prefer the named constants.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The code itself.
    public var description: String { rawValue }

    /// No signature file beside the content (or an empty one).
    public static let missing = SignatureFailureCode(rawValue: "sig.missing")
    /// The signature file is not a readable CMS/PKCS#7 SignedData structure.
    public static let malformed = SignatureFailureCode(rawValue: "sig.malformed")
    /// The signature does not match the bytes: tampered content, or a signature made for other bytes.
    public static let badSignature = SignatureFailureCode(rawValue: "sig.bad-signature")
    /// The signer's certificate does not chain to the configured agency's anchors (or is absent).
    public static let untrusted = SignatureFailureCode(rawValue: "sig.untrusted")
    /// A certificate in the chain had expired at the validation time.
    public static let expired = SignatureFailureCode(rawValue: "sig.expired")
    /// A certificate in the chain was not yet valid at the validation time.
    public static let notYetValid = SignatureFailureCode(rawValue: "sig.not-yet-valid")
    /// A certificate in the chain is listed on its issuer's CRL.
    public static let revoked = SignatureFailureCode(rawValue: "sig.revoked")
    /// Revocation could not be established (no current CRL where one is required, CRL bad or stale).
    public static let revocationUnknown = SignatureFailureCode(rawValue: "sig.revocation-unknown")
    /// The signer's certificate may not make signatures (no digitalSignature / nonRepudiation).
    public static let keyUsage = SignatureFailureCode(rawValue: "sig.key-usage")
    /// MD5, SHA-1 (or another digest off the allowlist) in the signature or the chain, or a short RSA key.
    public static let weakAlgorithm = SignatureFailureCode(rawValue: "sig.weak-algorithm")
    /// A valid signature by someone who is not the partner that dropped the file.
    public static let signerMismatch = SignatureFailureCode(rawValue: "sig.signer-mismatch")
    /// The signature file is of the wrong kind for its name: a `.p7s` that carries content, a `.p7m` without.
    public static let wrongFile = SignatureFailureCode(rawValue: "sig.wrong-file")

    /// The words a partner reads in an APERAK for this code: plain, and free of trust-store details.
    public var partnerReason: String {
        switch self {
        case .missing: return "The file has no signature. Send the signature file together with the file."
        case .malformed: return "The signature file could not be read as a CMS (PKCS#7) signature."
        case .badSignature:
            return "The signature does not match the file: the file was changed after signing, or the signature belongs to another file."
        case .untrusted: return "The signing certificate was not issued by the certification authority required for this exchange."
        case .expired: return "The signing certificate had expired when the file was received."
        case .notYetValid: return "The signing certificate was not yet valid when the file was received."
        case .revoked: return "The signing certificate has been revoked."
        case .revocationUnknown:
            return "The revocation status of the signing certificate could not be checked; the platform operator has been told."
        case .keyUsage: return "The signing certificate is not allowed to make signatures."
        case .weakAlgorithm: return "The signature uses an algorithm that is no longer accepted (such as SHA-1 or MD5); sign with SHA-256 or stronger."
        case .signerMismatch: return "The file is signed with a certificate that is not registered for your organisation."
        case .wrongFile: return "The signature file is not of the kind expected for this file (detached .p7s or enveloping .p7m)."
        default: return "The signature could not be verified."
        }
    }
}

/// Why a signature was refused: the stable code and two explanations for two audiences.
public struct SignatureFailure: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The stable code.
    public var code: SignatureFailureCode
    /// For the operator: names certificates, CRLs, OpenSSL's own words; never shown to the partner.
    public var operatorReason: String
    /// For the partner (APERAK text): plain words, no trust-store details.
    public var partnerReason: String

    /// Creates a failure; the partner's words default to the code's standard text.
    public init(code: SignatureFailureCode, operatorReason: String, partnerReason: String? = nil) {
        self.code = code
        self.operatorReason = operatorReason
        self.partnerReason = partnerReason ?? code.partnerReason
    }

    /// "[code] operator reason".
    public var description: String { "[\(code)] \(operatorReason)" }
}

/// How the signature travels with the content.
public enum SignatureKind: String, Sendable, Hashable, Codable {
    /// `name.p7s` beside `name`: the CMS holds no content.
    case detached
    /// `name.p7m`: the CMS holds the content itself.
    case enveloping
}

/// How the CMS structure was encoded in the signature file.
public enum SignatureEncoding: String, Sendable, Hashable, Codable {
    /// Binary DER.
    case der
    /// Base64 between `-----BEGIN CMS-----` (or `PKCS7`) lines.
    case pem
}

/// One certificate as the evidence records it: who, by whom, when, and the exact bytes.
public struct CertificateEvidence: Sendable, Hashable, Codable {
    /// Subject distinguished name, RFC 2253 order (most specific first), UTF-8.
    public var subject: String
    /// Issuer distinguished name, same form.
    public var issuer: String
    /// Serial number, upper-case hexadecimal without leading zeros.
    public var serialNumber: String
    /// SHA-256 of the DER encoding, lower-case hexadecimal.
    public var sha256Fingerprint: String
    /// Start of validity.
    public var notBefore: Date
    /// End of validity.
    public var notAfter: Date
    /// Public key, e.g. `RSA 2048` or `EC prime256v1`.
    public var publicKey: String
    /// The certificate's own signature algorithm, e.g. `sha256WithRSAEncryption`.
    public var signatureAlgorithm: String
    /// The DER encoding, exactly as found.
    public var der: [UInt8]

    /// The PEM form of `der` (`-----BEGIN CERTIFICATE-----`), for evidence files and `openssl` commands.
    public var pem: String { PEMText.encode(der, label: "CERTIFICATE") }

    /// Whether `time` lies within the validity period.
    public func isValid(at time: Date) -> Bool { notBefore <= time && time < notAfter }
}

/// A CRL consulted while checking a chain.
public struct CRLEvidence: Sendable, Hashable, Codable {
    /// The file it was loaded from.
    public var path: String
    /// Issuer distinguished name (RFC 2253).
    public var issuer: String
    /// SHA-256 of the CRL's DER encoding, lower-case hexadecimal.
    public var sha256: String
    /// `thisUpdate` (a.k.a. lastUpdate).
    public var lastUpdate: Date
    /// `nextUpdate`, when the CRL names one.
    public var nextUpdate: Date?
    /// How many certificates it lists as revoked.
    public var revokedCount: Int
}

/// Everything known about one verification, kept with the verdict so an auditor can see later why.
///
/// Fields are filled as far as verification got: a malformed file has no signer, an untrusted one no chain.
public struct SignatureEvidence: Sendable, Hashable, Codable {
    /// Detached or enveloping.
    public var kind: SignatureKind
    /// DER or PEM, when the signature file could be decoded.
    public var encoding: SignatureEncoding?
    /// The time verification was judged at (the receipt time, injected).
    public var validationTime: Date
    /// The agency whose trust anchors were used.
    public var agency: String
    /// The signature file, when verification read one from disk.
    public var signatureFile: String?
    /// The signature file's bytes as received (the `.p7s`, or the whole `.p7m`).
    public var signatureBytes: [UInt8]?
    /// SHA-256 of the signature file as received, lower-case hexadecimal (computed when asked: most
    /// verdicts are never audited, and hashing every one would cost more than the RSA check).
    public var signatureSHA256: String? { signatureBytes.flatMap { try? SHA256Digest.hash($0).hex } }
    /// The CMS digest algorithm, e.g. `SHA256`.
    public var digestAlgorithm: String?
    /// The CMS signature algorithm, e.g. `rsaEncryption` or `ecdsa-with-SHA256`.
    public var signatureAlgorithm: String?
    /// The signer's certificate, when the signature carried it.
    public var signer: CertificateEvidence?
    /// The verified chain, signer first, trust anchor last; empty unless the chain was built.
    public var chain: [CertificateEvidence]
    /// The CRLs that decided revocation, one per checked certificate that had one.
    public var crls: [CRLEvidence]

    /// An empty record for a verification about to start.
    public init(kind: SignatureKind, validationTime: Date, agency: String) {
        self.kind = kind
        self.validationTime = validationTime
        self.agency = agency
        self.chain = []
        self.crls = []
    }
}

/// Accepted, or refused with a reason.
public enum SignatureOutcome: Sendable, Hashable, Codable {
    /// Every check passed.
    case valid
    /// Refused; see the failure's code.
    case failed(SignatureFailure)
}

/// The result of verifying one signature: the outcome and the evidence behind it.
public struct SignatureVerdict: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Valid, or failed with a code.
    public var outcome: SignatureOutcome
    /// What was looked at.
    public var evidence: SignatureEvidence

    /// Creates a verdict.
    public init(outcome: SignatureOutcome, evidence: SignatureEvidence) {
        self.outcome = outcome
        self.evidence = evidence
    }

    /// Whether the signature was accepted.
    public var isValid: Bool { if case .valid = outcome { true } else { false } }

    /// The failure, if refused.
    public var failure: SignatureFailure? { if case .failed(let failure) = outcome { failure } else { nil } }

    /// The failure code, if refused.
    public var code: SignatureFailureCode? { failure?.code }

    /// "valid (signer ...)" or "[code] reason".
    public var description: String {
        switch outcome {
        case .valid: return "valid (signer \(evidence.signer?.subject ?? "?"))"
        case .failed(let failure): return failure.description
        }
    }
}

/// The result of verifying an enveloping (`.p7m`) signature: the content only when the verdict is valid.
public struct EnvelopedContent: Sendable, Hashable {
    /// The verdict.
    public var verdict: SignatureVerdict
    /// The signed content, byte for byte; nil unless `verdict.isValid`, so unverified bytes cannot be routed.
    public var content: [UInt8]?
}

/// PEM armour in Swift (no OpenSSL needed): 64-column base64 between BEGIN/END lines.
enum PEMText {
    /// Encodes DER bytes under `label`, with `\n` line ends as `openssl` writes them.
    static func encode(_ der: [UInt8], label: String) -> String {
        let base64 = Data(der).base64EncodedString()
        var out = "-----BEGIN \(label)-----\n"
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            out += base64[index..<end]
            out += "\n"
            index = end
        }
        return out + "-----END \(label)-----\n"
    }

    /// Whether the bytes look like PEM (optional whitespace, then `-----BEGIN `).
    static func looksLikePEM(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.firstIndex(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return false }
        return bytes[first...].starts(with: Array("-----BEGIN ".utf8))
    }
}
