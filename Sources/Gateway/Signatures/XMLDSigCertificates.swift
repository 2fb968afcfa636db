import COpenSSL
import Foundation

// The OpenSSL side of XML-DSig: certificates, CRLs, one agency's trust anchors, chain validation at an
// injected time, and the signer's evidence. The only XMLDSig file that calls libcrypto.

/// One agency's trust anchors for XML-DSig: its CA certificates (roots and intermediates) and CRLs.
///
/// Never the system store: only what is given here is trusted.
public struct XMLDSigTrustAnchors: Hashable, Sendable {
    /// The agency these anchors belong to, named in operator reasons.
    public var agency: String
    /// PEM bundle of the agency's CA certificates (roots and intermediates), all trusted.
    public var certificatesPEM: [UInt8]
    /// The agency's CRLs, each PEM or DER. When any is given, the signer's certificate must be covered by one.
    public var crls: [[UInt8]]

    /// Creates anchors from bytes already read.
    public init(agency: String, certificatesPEM: [UInt8], crls: [[UInt8]] = []) {
        self.agency = agency
        self.certificatesPEM = certificatesPEM
        self.crls = crls
    }

    /// Reads anchors from PEM certificate files and PEM/DER CRL files.
    public static func load(agency: String, certificateFiles: [String],
                            crlFiles: [String] = []) throws(XMLDSigError) -> XMLDSigTrustAnchors {
        func read(_ path: String, _ what: String) throws(XMLDSigError) -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw XMLDSigError(code: "xmldsig.anchors-unreadable", path: path,
                                   message: "cannot read the \(what) of agency \(agency)")
            }
            return [UInt8](data)
        }
        var pem: [UInt8] = []
        for path in certificateFiles {
            pem += try read(path, "CA certificates") + [0x0A]
        }
        var crls: [[UInt8]] = []
        for path in crlFiles {
            crls.append(try read(path, "CRL"))
        }
        return XMLDSigTrustAnchors(agency: agency, certificatesPEM: pem, crls: crls)
    }
}

/// Drains libcrypto's thread-local error queue into one line, at the failing call.
enum XMLDSigOpenSSLErrors {
    static func drain() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            parts.append(decodeCString(buffer))
        }
        return parts.joined(separator: "; ")
    }

    /// Decodes a NUL-terminated buffer (String(cString: [CChar]) is deprecated, pitfall P11).
    static func decodeCString(_ buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A PEM password callback that always refuses: an encrypted key fails cleanly instead of prompting on a TTY.
func xmlDSigRefusePassword(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int32, _ writing: Int32,
                           _ context: UnsafeMutableRawPointer?) -> Int32 {
    0
}

/// Reads everything written to a memory BIO (BIO_get_mem_data is a macro).
private func readAll(_ bio: OpaquePointer) -> [UInt8] {
    let pending = Int(BIO_ctrl_pending(bio))
    guard pending > 0 else { return [] }
    var bytes = [UInt8](repeating: 0, count: pending)
    let got = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(pending)) }
    return Array(bytes.prefix(max(0, Int(got))))
}

/// Runs `body` with a read-only memory BIO over `bytes`; the BIO borrows the bytes, so it never escapes.
private func withMemoryBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) -> T) -> T? {
    bytes.withUnsafeBytes { raw -> T? in
        guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
        defer { BIO_free(bio) }
        return body(bio)
    }
}

/// An X.509 certificate owned by Swift (X509_free in deinit).
final class XMLDSigX509: @unchecked Sendable {
    /// The X509*; lent only to XMLDSig files, never stored elsewhere.
    let handle: OpaquePointer

    /// Takes ownership of one reference to `handle`.
    init(owning handle: OpaquePointer) { self.handle = handle }

    deinit { X509_free(handle) }

    /// Parses one DER certificate; nil if it is not one (the error queue is cleared).
    convenience init?(der: [UInt8]) {
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let parsed else {
            ERR_clear_error()
            return nil
        }
        self.init(owning: parsed)
    }

    /// Every certificate of a PEM bundle, in order.
    static func certificates(pem: [UInt8]) -> [XMLDSigX509] {
        let result = withMemoryBIO(pem) { bio -> [XMLDSigX509] in
            var certificates: [XMLDSigX509] = []
            while let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
                certificates.append(XMLDSigX509(owning: x509))
            }
            return certificates
        } ?? []
        ERR_clear_error()  // the loop always ends on "no start line"
        return result
    }

    /// The DER encoding.
    var der: [UInt8] {
        let length = i2d_X509(handle, nil)
        guard length > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_X509(handle, &cursor)
        }
        return bytes
    }

    /// The PEM encoding.
    var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        PEM_write_bio_X509(bio, handle)
        return String(decoding: readAll(bio), as: UTF8.self)
    }

    /// XN_FLAG_RFC2253 without ASN1_STRFLGS_ESC_MSB, so UTF-8 (Chinese) names stay readable. Spelled out
    /// because Swift does not import the nested XN_FLAG_RFC2253 macro.
    private static let nameFlags = UInt(ASN1_STRFLGS_ESC_2253 | ASN1_STRFLGS_ESC_CTRL | ASN1_STRFLGS_UTF8_CONVERT
        | ASN1_STRFLGS_DUMP_UNKNOWN | ASN1_STRFLGS_DUMP_DER)
        | UInt(XN_FLAG_SEP_COMMA_PLUS | XN_FLAG_DN_REV | XN_FLAG_FN_SN | XN_FLAG_DUMP_UNKNOWN_FIELDS)

    /// RFC 4514 with UTF-8 kept.
    private static func format(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        let flags = nameFlags
        X509_NAME_print_ex(bio, name, 0, flags)
        return String(decoding: readAll(bio), as: UTF8.self)
    }

    /// Subject, RFC 4514.
    var subject: String { Self.format(X509_get_subject_name(handle)) }
    /// Issuer, RFC 4514.
    var issuer: String { Self.format(X509_get_issuer_name(handle)) }

    /// True when `other` names this certificate's subject as its issuer (how xmlsec finds the leaf too).
    func isNamedIssuer(of other: XMLDSigX509) -> Bool {
        X509_NAME_cmp(X509_get_subject_name(handle), X509_get_issuer_name(other.handle)) == 0
    }

    /// Serial number as upper-case hex.
    var serialNumber: String {
        guard let bignum = ASN1_INTEGER_to_BN(X509_get_serialNumber(handle), nil) else { return "" }
        defer { BN_free(bignum) }
        guard let hex = BN_bn2hex(bignum) else { return "" }
        defer { CRYPTO_free(hex, #fileID, #line) }  // OPENSSL_free is a macro (pitfall P4)
        return String(cString: hex)
    }

    /// SHA-256 of the DER, lower-case hex.
    var sha256Fingerprint: String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(handle, EVP_sha256(), &digest, &length) == 1 else { return "" }
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    private static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date {
        var broken = tm()
        guard let time, ASN1_TIME_to_tm(time, &broken) == 1 else { return Date(timeIntervalSince1970: 0) }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&broken)))
    }

    /// Start of validity.
    var notBefore: Date { Self.date(X509_get0_notBefore(handle)) }
    /// End of validity.
    var notAfter: Date { Self.date(X509_get0_notAfter(handle)) }

    /// False when the certificate restricts key usage to something other than signing.
    var keyUsageAllowsSigning: Bool {
        guard X509_get_extension_flags(handle) & UInt32(EXFLAG_KUSAGE) != 0 else { return true }
        return X509_get_key_usage(handle) & UInt32(KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION) != 0
    }

    /// Evidence for this certificate, with its verified issuers.
    func evidence(chain: [XMLDSigX509] = []) -> XMLDSigSignerEvidence {
        XMLDSigSignerEvidence(subject: subject, issuer: issuer, serialNumber: serialNumber,
                              sha256Fingerprint: sha256Fingerprint, notBefore: notBefore, notAfter: notAfter,
                              certificatePEM: pem, chainPEM: chain.map(\.pem))
    }

    /// The DER of an X509* that another XMLDSig file holds only on loan (xmlsec's key certificate).
    static func der(ofBorrowed handle: OpaquePointer) -> [UInt8] {
        X509_up_ref(handle)
        return XMLDSigX509(owning: handle).der
    }
}

/// A CRL owned by Swift (X509_CRL_free in deinit).
final class XMLDSigCRL: @unchecked Sendable {
    /// The X509_CRL*; lent only to XMLDSig files.
    let handle: OpaquePointer

    private init(owning handle: OpaquePointer) { self.handle = handle }

    deinit { X509_CRL_free(handle) }

    /// Parses a PEM or DER CRL.
    static func parse(_ bytes: [UInt8]) -> XMLDSigCRL? {
        if let crl = withMemoryBIO(bytes, { PEM_read_bio_X509_CRL($0, nil, nil, nil) }) ?? nil {
            return XMLDSigCRL(owning: crl)
        }
        ERR_clear_error()
        let parsed: OpaquePointer? = bytes.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_X509_CRL(nil, &cursor, buffer.count)
        }
        guard let parsed else {
            ERR_clear_error()
            return nil
        }
        return XMLDSigCRL(owning: parsed)
    }

    /// A new reference for a C owner that frees it (xmlsec's store adopts CRLs).
    func retainedHandle() -> OpaquePointer {
        X509_CRL_up_ref(handle)
        return handle
    }
}

/// Validates a signer's certificate chain against one agency's anchors at an injected time.
final class XMLDSigChainValidator: @unchecked Sendable {
    /// The agency's CA certificates (also loaded into xmlsec's keys manager).
    let anchors: [XMLDSigX509]
    /// The agency's CRLs (also adopted by xmlsec's store).
    let crls: [XMLDSigCRL]
    let agency: String
    private let store: OpaquePointer

    /// The outcome of one chain validation.
    enum Outcome {
        /// Chains to an anchor; `chain` runs from the issuer of the leaf up to the anchor.
        case trusted(chain: [XMLDSigX509])
        /// Refused with a code and operator details.
        case refused(XMLDSigFailureCode, String)
    }

    /// Parses the anchors; refuses an empty bundle or an unreadable CRL.
    init(_ anchors: XMLDSigTrustAnchors) throws(XMLDSigError) {
        agency = anchors.agency
        self.anchors = XMLDSigX509.certificates(pem: anchors.certificatesPEM)
        guard !self.anchors.isEmpty else {
            throw XMLDSigError(code: "xmldsig.anchors-empty",
                               message: "no PEM certificate in the trust anchors of agency \(anchors.agency)")
        }
        var crls: [XMLDSigCRL] = []
        for (index, bytes) in anchors.crls.enumerated() {
            guard let crl = XMLDSigCRL.parse(bytes) else {
                throw XMLDSigError(code: "xmldsig.crl-unreadable",
                                   message: "CRL #\(index + 1) of agency \(anchors.agency) is neither PEM nor DER")
            }
            crls.append(crl)
        }
        self.crls = crls
        guard let store = X509_STORE_new() else {
            throw XMLDSigError(code: "xmldsig.openssl", message: XMLDSigOpenSSLErrors.drain())
        }
        self.store = store
        for anchor in self.anchors where X509_STORE_add_cert(store, anchor.handle) != 1 {
            ERR_clear_error()  // a duplicate certificate in the bundle is harmless
        }
        for crl in crls where X509_STORE_add_crl(store, crl.handle) != 1 {
            ERR_clear_error()
        }
    }

    deinit { X509_STORE_free(store) }

    /// Builds and checks the chain of `leaf`, with `intermediates` from the document, at `time`.
    func validate(leaf: XMLDSigX509, intermediates: [XMLDSigX509], at time: Date,
                  requireSigningKeyUsage: Bool) -> Outcome {
        guard let context = X509_STORE_CTX_new() else {
            return .refused(.untrusted, "X509_STORE_CTX_new: \(XMLDSigOpenSSLErrors.drain())")
        }
        defer { X509_STORE_CTX_free(context) }
        guard let untrusted = OPENSSL_sk_new_null() else {
            return .refused(.untrusted, "OPENSSL_sk_new_null: \(XMLDSigOpenSSLErrors.drain())")
        }
        defer { OPENSSL_sk_free(untrusted) }  // the certificates stay owned by their classes
        for certificate in intermediates {
            OPENSSL_sk_push(untrusted, UnsafeRawPointer(certificate.handle))
        }
        guard X509_STORE_CTX_init(context, store, leaf.handle, untrusted) == 1 else {
            return .refused(.untrusted, "X509_STORE_CTX_init: \(XMLDSigOpenSSLErrors.drain())")
        }
        let parameters = X509_STORE_CTX_get0_param(context)
        X509_VERIFY_PARAM_set_time(parameters, time_t(time.timeIntervalSince1970.rounded(.down)))
        if !crls.isEmpty {
            // The leaf must be covered by a CRL of its issuer once the agency publishes CRLs.
            X509_VERIFY_PARAM_set_flags(parameters, UInt(X509_V_FLAG_CRL_CHECK))
        }
        let result = X509_verify_cert(context)
        if result != 1 {
            let error = X509_STORE_CTX_get_error(context)
            let depth = X509_STORE_CTX_get_error_depth(context)
            let failing = X509_STORE_CTX_get_current_cert(context).map { cert -> String in
                X509_up_ref(cert)
                return XMLDSigX509(owning: cert).subject
            } ?? leaf.subject
            let text = String(cString: X509_verify_cert_error_string(Int(error)))
            ERR_clear_error()
            let detail = "certificate \"\(failing)\" (depth \(depth)) against the anchors of agency \(agency) "
                + "at \(Self.iso(time)): \(text) (X509_V_ERR \(error))"
            switch error {
            case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID:
                return .refused(.expired, detail)
            case X509_V_ERR_CERT_REVOKED:
                return .refused(.revoked, detail)
            default:
                return .refused(.untrusted, detail)
            }
        }
        if requireSigningKeyUsage && !leaf.keyUsageAllowsSigning {
            return .refused(.untrusted, "certificate \"\(leaf.subject)\" has a key usage without "
                + "digitalSignature or nonRepudiation")
        }
        var chain: [XMLDSigX509] = []
        if let built = X509_STORE_CTX_get1_chain(context) {
            let count = OPENSSL_sk_num(built)
            for index in 0..<count {
                // get1_chain took one reference per element: hand each to an owner, free only the stack.
                if let raw = OPENSSL_sk_value(built, index) {
                    chain.append(XMLDSigX509(owning: OpaquePointer(raw)))
                }
            }
            OPENSSL_sk_free(built)
        }
        return .trusted(chain: Array(chain.dropFirst()))
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// The kind of a signing key, read with OpenSSL before xmlsec loads it.
enum XMLDSigKeyKind: Sendable {
    case rsa, ec
}

/// Checks a PEM private key: unencrypted, RSA or EC, and matching `certificate`. Never keeps the key.
func xmlDSigInspectPrivateKey(pem: [UInt8], certificate: XMLDSigX509,
                              path: String) throws(XMLDSigError) -> XMLDSigKeyKind {
    let key: OpaquePointer?? = withMemoryBIO(pem) { PEM_read_bio_PrivateKey($0, nil, xmlDSigRefusePassword, nil) }
    guard let key = key ?? nil else {
        let reason = XMLDSigOpenSSLErrors.drain()
        throw XMLDSigError(code: "xmldsig.key-invalid", path: path,
                           message: "not an unencrypted PEM private key (\(reason))")
    }
    defer { EVP_PKEY_free(key) }
    guard X509_check_private_key(certificate.handle, key) == 1 else {
        ERR_clear_error()
        throw XMLDSigError(code: "xmldsig.key-mismatch", path: path,
                           message: "the private key does not belong to certificate \"\(certificate.subject)\"")
    }
    switch EVP_PKEY_get_base_id(key) {
    case EVP_PKEY_RSA: return .rsa
    case EVP_PKEY_EC: return .ec
    default:
        throw XMLDSigError(code: "xmldsig.key-type", path: path,
                           message: "only RSA and EC (ECDSA) keys can sign XML-DSig here")
    }
}
