import COpenSSL
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The one file where OpenSSL's X509, X509_CRL, X509_STORE, EVP_PKEY and CMS types are touched.
// Every other file in Signatures/ sees only the wrapper classes below, whose members speak Swift
// (String, [UInt8], epoch seconds, small enums): no OpaquePointer crosses this file's boundary.
// Each wrapper owns its handle and frees it in deinit.

// MARK: - Error queue

/// OpenSSL's thread-local error queue, drained into Swift values right at the failing call.
enum OpenSSLErrorQueue {
    /// One queued error: library and reason numbers (for classification) and OpenSSL's text.
    struct Entry {
        var library: Int32
        var reason: Int32
        var text: String
    }

    /// Empties the queue, oldest first.
    static func drain() -> [Entry] {
        var entries: [Entry] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            entries.append(Entry(library: ERR_GET_LIB(code), reason: ERR_GET_REASON(code), text: text))
        }
        return entries
    }

    /// Empties the queue and keeps only the texts.
    static func drainTexts() -> [String] { drain().map(\.text) }

    /// Drops whatever an earlier, already-handled call left behind, so the next drain is about the next call.
    static func clear() { ERR_clear_error() }
}

// MARK: - Small conversions

/// Reads everything a memory BIO holds.
private func memoryBIOBytes(_ bio: OpaquePointer) -> [UInt8] {
    var data: UnsafeMutablePointer<CChar>?
    let length = swg_BIO_get_mem_data(bio, &data)
    guard length > 0, let data else { return [] }
    return data.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
}

/// Calls `body` with a read-only memory BIO over `bytes`; the BIO never outlives the bytes.
private func withMemoryBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) -> T) -> T? {
    bytes.withUnsafeBytes { raw -> T? in
        // A zero-length buffer has no base address; BIO_new_mem_buf wants a valid pointer.
        let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        guard let bio = BIO_new_mem_buf(base, Int32(raw.count)) else { return nil }
        defer { BIO_free(bio) }
        return body(bio)
    }
}

/// An ASN1_TIME as seconds since the epoch (UTC).
private func epochSeconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64? {
    guard let time else { return nil }
    var broken = tm()
    guard ASN1_TIME_to_tm(time, &broken) == 1 else { return nil }
    return Int64(timegm(&broken))
}

/// A distinguished name in RFC 2253 order and escaping, UTF-8 left readable.
private func nameString(_ name: OpaquePointer?) -> String {
    guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
    defer { BIO_free(bio) }
    guard X509_NAME_print_ex(bio, name, 0, swg_XN_FLAG_RFC2253_UTF8()) >= 0 else { return "" }
    return String(decoding: memoryBIOBytes(bio), as: UTF8.self)
}

/// OpenSSL's short name for a NID ("SHA256", "MD5"), or nil for NID_undef.
private func shortName(_ nid: Int32) -> String? {
    guard nid != NID_undef, let name = OBJ_nid2sn(nid) else { return nil }
    return String(cString: name)
}

/// OpenSSL's long name for a NID ("sha256WithRSAEncryption", "ecdsa-with-SHA256").
private func longName(_ nid: Int32) -> String? {
    guard nid != NID_undef, let name = OBJ_nid2ln(nid) else { return nil }
    return String(cString: name)
}

/// Dotted OID text of an object, for algorithms OpenSSL has no name for.
private func oidText(_ object: OpaquePointer?) -> String {
    var buffer = [CChar](repeating: 0, count: 128)
    let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
    guard length > 0 else { return "?" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Lower-case hexadecimal.
private func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// An algorithm as named in a CMS SignerInfo or a certificate, with the digest it implies.
struct AlgorithmName: Hashable {
    /// OpenSSL's name (`SHA256`, `rsaEncryption`, `ecdsa-with-SHA256`) or the dotted OID.
    var name: String
    /// The digest it uses (`SHA256`, `SHA1`, ...), nil when it names none (e.g. `rsaEncryption`, Ed25519).
    var digest: String?
}

// MARK: - Certificates

/// One X.509 certificate (owns an `X509*`).
///
/// Immutable after creation, so OpenSSL allows concurrent reads; hence `@unchecked Sendable`.
final class X509Certificate: @unchecked Sendable {
    fileprivate let handle: OpaquePointer
    /// The DER it was decoded from, when known (saves re-encoding it for cache keys and evidence).
    private let knownDER: [UInt8]?
    /// Digest-verify contexts set up with this certificate's key, one per digest name, copied for each
    /// use (PlainSignatureCheck): setting one up costs a third of an RSA-2048 verification.
    fileprivate let verifyContexts = NIOLockedValueBox([String: OpaquePointer]())

    /// Takes ownership of one reference.
    fileprivate init(owning handle: OpaquePointer, der: [UInt8]? = nil) {
        self.handle = handle
        self.knownDER = der
    }

    /// Decodes one DER certificate; nil if OpenSSL refuses it.
    static func decode(der: [UInt8]) -> X509Certificate? {
        let handle: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        OpenSSLErrorQueue.clear()
        return handle.map { X509Certificate(owning: $0, der: der) }
    }

    /// Adds a reference to a certificate someone else owns (e.g. one inside a CMS structure).
    fileprivate convenience init(borrowing handle: OpaquePointer) {
        X509_up_ref(handle)
        self.init(owning: handle)
    }

    deinit {
        verifyContexts.withLockedValue { contexts in contexts.values.forEach { EVP_MD_CTX_free($0) } }
        X509_free(handle)
    }

    /// Every certificate in a PEM file (one or more `BEGIN CERTIFICATE` blocks), in file order.
    static func readPEMFile(_ path: String) throws(SignatureError) -> [X509Certificate] {
        OpenSSLErrorQueue.clear()
        guard let bio = BIO_new_file(path, "rb") else {
            throw SignatureError(code: "trust.unreadable", path: path, message: "cannot open the file",
                                 openSSLErrors: OpenSSLErrorQueue.drainTexts())
        }
        defer { BIO_free(bio) }
        var certificates: [X509Certificate] = []
        while let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
            certificates.append(X509Certificate(owning: x509))
        }
        // The loop ends with PEM_R_NO_START_LINE at end of file; anything else is a broken block.
        let errors = OpenSSLErrorQueue.drain()
        let endOfFile = errors.count == 1 && errors[0].library == ERR_LIB_PEM && errors[0].reason == PEM_R_NO_START_LINE
        if !errors.isEmpty && !(endOfFile && !certificates.isEmpty) {
            throw SignatureError(
                code: certificates.isEmpty ? "trust.no-certificate" : "trust.unreadable", path: path,
                message: certificates.isEmpty ? "no PEM certificate in the file"
                    : "PEM block \(certificates.count + 1) is not a readable certificate",
                openSSLErrors: errors.map(\.text))
        }
        return certificates
    }

    /// The DER encoding, exactly as parsed.
    var der: [UInt8] {
        if let knownDER { return knownDER }
        let length = i2d_X509(handle, nil)
        guard length > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: Int(length))
        out.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_X509(handle, &cursor)
        }
        return out
    }

    /// Subject, RFC 2253.
    var subject: String { nameString(X509_get_subject_name(handle)) }
    /// Issuer, RFC 2253.
    var issuer: String { nameString(X509_get_issuer_name(handle)) }

    /// Serial number, upper-case hexadecimal without leading zeros ("0" for zero).
    var serialNumber: String {
        guard let bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(handle), nil) else { return "" }
        defer { BN_free(bn) }
        guard let text = BN_bn2hex(bn) else { return "" }
        defer { swg_OPENSSL_free(text) }
        let value = String(cString: text)
        let trimmed = value.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// SHA-256 of the DER encoding, lower-case hexadecimal.
    var sha256Fingerprint: String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(handle, EVP_sha256(), &digest, &length) == 1 else { return "" }
        return hex(digest.prefix(Int(length)))
    }

    /// Start of validity, seconds since the epoch.
    var notBefore: Int64 { epochSeconds(X509_get0_notBefore(handle)) ?? 0 }
    /// End of validity, seconds since the epoch.
    var notAfter: Int64 { epochSeconds(X509_get0_notAfter(handle)) ?? 0 }

    /// Self-issued and self-signed: a candidate trust anchor.
    var isSelfSigned: Bool { X509_get_extension_flags(handle) & UInt32(EXFLAG_SS) != 0 }
    /// A CA certificate (basicConstraints CA:TRUE, or an old-style v1 root).
    var isCA: Bool { X509_check_ca(handle) >= 1 }

    /// Whether `other` names this certificate as issuer and the key identifiers agree.
    func issued(_ other: X509Certificate) -> Bool { X509_check_issued(handle, other.handle) == X509_V_OK }

    /// Key usage, as OpenSSL decoded it: nil when the certificate has no keyUsage extension (RFC 5280:
    /// then unrestricted), else whether digitalSignature or nonRepudiation is set, and the names set.
    var signingKeyUsage: (permitsSigning: Bool, names: [String])? {
        guard X509_get_extension_flags(handle) & UInt32(EXFLAG_KUSAGE) != 0 else { return nil }
        let usage = X509_get_key_usage(handle)
        let known: [(UInt32, String)] = [
            (UInt32(KU_DIGITAL_SIGNATURE), "digitalSignature"), (UInt32(KU_NON_REPUDIATION), "nonRepudiation"),
            (UInt32(KU_KEY_ENCIPHERMENT), "keyEncipherment"), (UInt32(KU_DATA_ENCIPHERMENT), "dataEncipherment"),
            (UInt32(KU_KEY_AGREEMENT), "keyAgreement"), (UInt32(KU_KEY_CERT_SIGN), "keyCertSign"),
            (UInt32(KU_CRL_SIGN), "cRLSign"),
        ]
        let names = known.filter { usage & $0.0 != 0 }.map(\.1)
        let signing = usage & UInt32(KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION) != 0
        return (signing, names)
    }

    /// Key type and size: ("RSA", 2048, "RSA 2048"), ("EC", 256, "EC prime256v1"), ...
    var publicKey: (type: String, bits: Int, description: String) {
        guard let key = X509_get0_pubkey(handle) else { return ("?", 0, "?") }
        let type = EVP_PKEY_get0_type_name(key).map { String(cString: $0) } ?? "?"
        let bits = Int(EVP_PKEY_get_bits(key))
        var group = [CChar](repeating: 0, count: 64)
        var groupLength = 0
        if EVP_PKEY_get_group_name(key, &group, group.count, &groupLength) == 1, groupLength > 0 {
            let curve = String(decoding: group.prefix(groupLength).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return (type, bits, "\(type) \(curve)")
        }
        return (type, bits, "\(type) \(bits)")
    }

    /// The certificate's own signature algorithm and the digest it used (RSA-PSS included).
    var signatureAlgorithm: AlgorithmName {
        let nid = X509_get_signature_nid(handle)
        var digestNID: Int32 = NID_undef
        var keyNID: Int32 = NID_undef
        var securityBits: Int32 = 0
        var flags: UInt32 = 0
        _ = X509_get_signature_info(handle, &digestNID, &keyNID, &securityBits, &flags)
        return AlgorithmName(name: longName(nid) ?? "nid \(nid)", digest: shortName(digestNID))
    }

    /// The record kept as evidence.
    var evidence: CertificateEvidence {
        CertificateEvidence(
            subject: subject, issuer: issuer, serialNumber: serialNumber, sha256Fingerprint: sha256Fingerprint,
            notBefore: Date(timeIntervalSince1970: TimeInterval(notBefore)),
            notAfter: Date(timeIntervalSince1970: TimeInterval(notAfter)),
            publicKey: publicKey.description, signatureAlgorithm: signatureAlgorithm.name, der: der)
    }
}

// MARK: - CRLs

/// One certificate revocation list (owns an `X509_CRL*`), with the file it came from.
final class X509RevocationList: @unchecked Sendable {
    fileprivate let handle: OpaquePointer
    /// The file it was loaded from.
    let path: String

    private init(owning handle: OpaquePointer, path: String) {
        self.handle = handle
        self.path = path
    }

    deinit { X509_CRL_free(handle) }

    /// Every CRL in a file: PEM (one or more blocks) or a single DER CRL, detected by content.
    static func readFile(_ path: String) throws(SignatureError) -> [X509RevocationList] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SignatureError(code: "trust.crl-unreadable", path: path, message: "cannot read the file")
        }
        let bytes = [UInt8](data)
        OpenSSLErrorQueue.clear()
        let parsed: [X509RevocationList]? = withMemoryBIO(bytes) { bio in
            var lists: [X509RevocationList] = []
            if PEMText.looksLikePEM(bytes) {
                while let crl = PEM_read_bio_X509_CRL(bio, nil, nil, nil) {
                    lists.append(X509RevocationList(owning: crl, path: path))
                }
                let errors = OpenSSLErrorQueue.drain()
                let endOfFile = errors.count == 1 && errors[0].library == ERR_LIB_PEM && errors[0].reason == PEM_R_NO_START_LINE
                return (endOfFile || errors.isEmpty) ? lists : []
            }
            guard let crl = d2i_X509_CRL_bio(bio, nil) else { return [] }
            return [X509RevocationList(owning: crl, path: path)]
        }
        guard let parsed, !parsed.isEmpty else {
            throw SignatureError(code: "trust.crl-unreadable", path: path, message: "not a PEM or DER certificate revocation list",
                                 openSSLErrors: OpenSSLErrorQueue.drainTexts())
        }
        return parsed
    }

    /// Issuer, RFC 2253.
    var issuer: String { nameString(X509_CRL_get_issuer(handle)) }
    /// thisUpdate, seconds since the epoch.
    var lastUpdate: Int64 { epochSeconds(X509_CRL_get0_lastUpdate(handle)) ?? 0 }
    /// nextUpdate, seconds since the epoch, when present.
    var nextUpdate: Int64? { epochSeconds(X509_CRL_get0_nextUpdate(handle)) }
    /// How many certificates it revokes.
    var revokedCount: Int {
        guard let revoked = X509_CRL_get_REVOKED(handle) else { return 0 }
        return Int(swg_sk_X509_REVOKED_num(revoked))
    }

    /// SHA-256 of the DER encoding, lower-case hexadecimal.
    var sha256: String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_CRL_digest(handle, EVP_sha256(), &digest, &length) == 1 else { return "" }
        return hex(digest.prefix(Int(length)))
    }

    /// Whether `certificate`'s subject is this CRL's issuer.
    func isIssued(by certificate: X509Certificate) -> Bool {
        X509_NAME_cmp(X509_CRL_get_issuer(handle), X509_get_subject_name(certificate.handle)) == 0
    }

    /// Whether this CRL covers certificates issued by the same name as `certificate`'s issuer.
    func covers(_ certificate: X509Certificate) -> Bool {
        X509_NAME_cmp(X509_CRL_get_issuer(handle), X509_get_issuer_name(certificate.handle)) == 0
    }

    /// Whether `issuer`'s key made this CRL's signature.
    func signatureVerifies(with issuer: X509Certificate) -> Bool {
        guard let key = X509_get0_pubkey(issuer.handle) else { return false }
        let ok = X509_CRL_verify(handle, key) == 1
        OpenSSLErrorQueue.clear()
        return ok
    }

    /// The record kept as evidence.
    var evidence: CRLEvidence {
        CRLEvidence(path: path, issuer: issuer, sha256: sha256,
                    lastUpdate: Date(timeIntervalSince1970: TimeInterval(lastUpdate)),
                    nextUpdate: nextUpdate.map { Date(timeIntervalSince1970: TimeInterval($0)) },
                    revokedCount: revokedCount)
    }
}

// MARK: - Trust store and chain verification

/// Why a chain was refused, classified from OpenSSL's X509_V_ERR_* code.
enum ChainFailureKind: Equatable {
    case untrusted, expired, notYetValid, revoked, revocationUnknown, weakAlgorithm, unsuitablePurpose
}

/// A refused chain: the class, OpenSSL's code and words, and where in the chain (0 = signer).
struct ChainFailure {
    var kind: ChainFailureKind
    var errorNumber: Int32
    var depth: Int32
    var message: String
    var certificateSubject: String?
}

/// The outcome of one chain verification.
enum ChainVerification {
    /// Chain built and checked: signer first, trust anchor last.
    case verified([X509Certificate])
    case failed(ChainFailure)
}

/// Tolerates "no CRL for this issuer" (CRLs checked only where the agency publishes one); every other
/// error, including a stale or unverifiable CRL, still fails. A plain C function: it needs no context.
private let toleratesMissingCRL: @convention(c) (Int32, OpaquePointer?) -> Int32 = { ok, context in
    if ok == 0, let context, X509_STORE_CTX_get_error(context) == X509_V_ERR_UNABLE_TO_GET_CRL { return 1 }
    return ok
}

/// One agency's anchors as an OpenSSL `X509_STORE` (roots, intermediates, CRLs), never the system store.
final class X509TrustStore: @unchecked Sendable {
    private let store: OpaquePointer
    /// Every certificate loaded (roots and intermediates).
    let certificates: [X509Certificate]
    /// Every CRL loaded.
    let crls: [X509RevocationList]

    /// Builds the store. Fails only if OpenSSL cannot allocate or refuses an object.
    init(certificates: [X509Certificate], crls: [X509RevocationList]) throws(SignatureError) {
        OpenSSLErrorQueue.clear()
        guard let store = X509_STORE_new() else {
            throw SignatureError(code: "sig.internal", path: "", message: "X509_STORE_new failed",
                                 openSSLErrors: OpenSSLErrorQueue.drainTexts())
        }
        self.store = store
        self.certificates = certificates
        self.crls = crls
        for certificate in certificates where X509_STORE_add_cert(store, certificate.handle) != 1 {
            throw SignatureError(code: "sig.internal", path: "", message: "X509_STORE_add_cert refused \(certificate.subject)",
                                 openSSLErrors: OpenSSLErrorQueue.drainTexts())
        }
        for crl in crls where X509_STORE_add_crl(store, crl.handle) != 1 {
            throw SignatureError(code: "sig.internal", path: crl.path, message: "X509_STORE_add_crl refused the CRL",
                                 openSSLErrors: OpenSSLErrorQueue.drainTexts())
        }
        // Pitfall P9: anything that runs CMS_verify against this store would otherwise check the
        // S/MIME-sign purpose and refuse partner certificates whose extendedKeyUsage is only clientAuth.
        // Key usage is checked explicitly instead (CMSVerifier), so "any purpose" is the store's default.
        X509_STORE_set_purpose(store, X509_PURPOSE_ANY)
    }

    deinit { X509_STORE_free(store) }

    /// Builds and checks the chain of `leaf` at `time` (seconds since the epoch).
    ///
    /// `untrusted` are extra certificates that may complete the path (those the CMS carried); only the
    /// store's self-signed roots are trust anchors (no partial chains). With `checkRevocation`, every
    /// certificate's CRL is consulted (CRL_CHECK | CRL_CHECK_ALL); `requireCRL` makes a missing CRL
    /// fatal, else a certificate whose issuer publishes no CRL passes.
    func verifyChain(leaf: X509Certificate, untrusted: [X509Certificate], at time: Int64,
                     checkRevocation: Bool, requireCRL: Bool) -> ChainVerification {
        OpenSSLErrorQueue.clear()
        guard let context = X509_STORE_CTX_new(), let stack = swg_sk_X509_new_null() else {
            return .failed(ChainFailure(kind: .untrusted, errorNumber: -1, depth: 0,
                                        message: "out of memory: " + OpenSSLErrorQueue.drainTexts().joined(separator: "; ")))
        }
        defer {
            X509_STORE_CTX_free(context)
            swg_sk_X509_free(stack)  // the stack borrows; each certificate is owned by its wrapper
        }
        for certificate in untrusted { _ = swg_sk_X509_push(stack, certificate.handle) }
        guard X509_STORE_CTX_init(context, store, leaf.handle, stack) == 1 else {
            return .failed(ChainFailure(kind: .untrusted, errorNumber: -1, depth: 0,
                                        message: "X509_STORE_CTX_init: " + OpenSSLErrorQueue.drainTexts().joined(separator: "; ")))
        }
        // P9: purpose "any"; signing key usage is checked by the caller, extendedKeyUsage is not restricted.
        X509_STORE_CTX_set_purpose(context, X509_PURPOSE_ANY)
        X509_STORE_CTX_set_time(context, 0, time_t(time))
        if checkRevocation {
            X509_STORE_CTX_set_flags(context, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL))
            if !requireCRL { X509_STORE_CTX_set_verify_cb(context, toleratesMissingCRL) }
        }
        let result = X509_verify_cert(context)
        OpenSSLErrorQueue.clear()  // the outcome is read from the context, not the queue
        if result == 1, let chain = X509_STORE_CTX_get0_chain(context) {
            var certificates: [X509Certificate] = []
            for index in 0..<swg_sk_X509_num(chain) {
                if let certificate = swg_sk_X509_value(chain, index) {
                    certificates.append(X509Certificate(borrowing: certificate))
                }
            }
            return .verified(certificates)
        }
        let error = X509_STORE_CTX_get_error(context)
        let depth = X509_STORE_CTX_get_error_depth(context)
        let message = X509_verify_cert_error_string(Int(error)).map { String(cString: $0) } ?? "error \(error)"
        let subject = X509_STORE_CTX_get_current_cert(context).map { nameString(X509_get_subject_name($0)) }
        return .failed(ChainFailure(kind: Self.classify(error), errorNumber: error, depth: depth,
                                    message: message, certificateSubject: subject))
    }

    /// Maps OpenSSL's verification error onto the gateway's classes.
    private static func classify(_ error: Int32) -> ChainFailureKind {
        switch error {
        case X509_V_ERR_CERT_HAS_EXPIRED: return .expired
        case X509_V_ERR_CERT_NOT_YET_VALID: return .notYetValid
        case X509_V_ERR_CERT_REVOKED: return .revoked
        case X509_V_ERR_UNABLE_TO_GET_CRL, X509_V_ERR_CRL_HAS_EXPIRED, X509_V_ERR_CRL_NOT_YET_VALID,
             X509_V_ERR_CRL_SIGNATURE_FAILURE, X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE,
             X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD, X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD,
             X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER, X509_V_ERR_KEYUSAGE_NO_CRL_SIGN, X509_V_ERR_DIFFERENT_CRL_SCOPE,
             X509_V_ERR_CRL_PATH_VALIDATION_ERROR, X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
            return .revocationUnknown
        case X509_V_ERR_CA_MD_TOO_WEAK, X509_V_ERR_CA_KEY_TOO_SMALL, X509_V_ERR_EE_KEY_TOO_SMALL:
            return .weakAlgorithm
        case X509_V_ERR_INVALID_PURPOSE: return .unsuitablePurpose
        default: return .untrusted
        }
    }
}

// MARK: - CMS SignedData

/// Where the signed content comes from when checking a CMS signature.
enum CMSContentSource {
    /// Detached: these bytes.
    case bytes([UInt8])
    /// Detached: this file, streamed (memory stays flat however large it is).
    case file(String)
    /// Enveloping: the content inside the CMS.
    case embedded
}

/// How a CMS signature check ended.
enum CMSSignatureCheck {
    /// Signature (and signed attributes) verify; `content` is the embedded content when asked for.
    case verified(content: [UInt8]?)
    /// The bytes do not match the signature.
    case badSignature([String])
    /// The signer certificate is not in the CMS.
    case signerCertificateMissing([String])
    /// Anything else OpenSSL refused (unsupported algorithm, broken structure).
    case malformed([String])
}

/// A decoded CMS ContentInfo (owns a `CMS_ContentInfo*`) and the certificates it carried.
final class CMSSignedData {
    private let handle: OpaquePointer
    /// How it was encoded.
    let encoding: SignatureEncoding
    /// Every certificate the CMS carries (signer and any chain it brought along).
    let certificates: [X509Certificate]

    private init(handle: OpaquePointer, encoding: SignatureEncoding, certificates: [X509Certificate]) {
        self.handle = handle
        self.encoding = encoding
        self.certificates = certificates
    }

    deinit { CMS_ContentInfo_free(handle) }

    /// PEM labels OpenSSL's own CMS reader accepts.
    private static let pemLabels: Set<String> = ["CMS", "PKCS7", "PKCS #7 SIGNED DATA"]

    /// Decodes DER or PEM (detected by content); on failure, OpenSSL's words.
    ///
    /// `certificate` turns carried certificate DER into decoded certificates, so a caller can reuse
    /// one decoding per distinct certificate (see CMSCertificateSplit for why); without it, or when
    /// the layout is unusual, the whole structure is decoded by OpenSSL as received.
    static func decode(_ bytes: [UInt8], certificate lookup: (([UInt8]) -> X509Certificate?)? = nil)
        -> Result<CMSSignedData, DecodeFailure> {
        OpenSSLErrorQueue.clear()
        let encoding: SignatureEncoding = PEMText.looksLikePEM(bytes) ? .pem : .der
        let der: [UInt8]
        if encoding == .pem {
            guard let decoded = pemBody(bytes) else {
                return .failure(DecodeFailure(encoding: .pem, openSSLErrors: OpenSSLErrorQueue.drainTexts()))
            }
            der = decoded
        } else {
            der = bytes
        }
        if let lookup, let parts = CMSCertificateSplit.split(der) {
            let certificates = parts.certificates.compactMap(lookup)
            if certificates.count == parts.certificates.count, let handle = d2iCMS(parts.withoutCertificates) {
                return .success(CMSSignedData(handle: handle, encoding: encoding, certificates: certificates))
            }
            OpenSSLErrorQueue.clear()
        }
        guard let handle = d2iCMS(der) else {
            return .failure(DecodeFailure(encoding: encoding, openSSLErrors: OpenSSLErrorQueue.drainTexts()))
        }
        var certificates: [X509Certificate] = []
        if let stack = CMS_get1_certs(handle) {
            for index in 0..<swg_sk_X509_num(stack) {
                if let certificate = swg_sk_X509_value(stack, index) { certificates.append(X509Certificate(borrowing: certificate)) }
            }
            swg_sk_X509_pop_free(stack)
        }
        return .success(CMSSignedData(handle: handle, encoding: encoding, certificates: certificates))
    }

    private static func d2iCMS(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_CMS_ContentInfo(nil, &cursor, buffer.count)
        }
    }

    /// The DER inside a PEM block labelled as OpenSSL's CMS reader would accept; nil otherwise
    /// (including encrypted PEM, which no signature file has reason to be).
    static func pemBody(_ bytes: [UInt8]) -> [UInt8]? {
        withMemoryBIO(bytes) { bio -> [UInt8]? in
            var name: UnsafeMutablePointer<CChar>?
            var header: UnsafeMutablePointer<CChar>?
            var data: UnsafeMutablePointer<UInt8>?
            var length = 0
            guard PEM_read_bio(bio, &name, &header, &data, &length) == 1 else { return nil }
            defer {
                swg_OPENSSL_free(name)
                swg_OPENSSL_free(header)
                swg_OPENSSL_free(data)
            }
            guard let name, pemLabels.contains(String(cString: name)), header.map({ $0.pointee == 0 }) ?? true,
                  let data, length > 0 else { return nil }
            return Array(UnsafeBufferPointer(start: data, count: length))
        } ?? nil
    }

    /// Why decoding failed.
    struct DecodeFailure: Error {
        var encoding: SignatureEncoding
        var openSSLErrors: [String]
    }

    /// Whether the ContentInfo is SignedData (not EnvelopedData, DigestedData, ...), and its type's name.
    var contentType: (isSignedData: Bool, name: String) {
        guard let type = CMS_get0_type(handle) else { return (false, "?") }
        let nid = OBJ_obj2nid(type)
        return (nid == NID_pkcs7_signed, longName(nid) ?? oidText(type))
    }

    /// Whether the SignedData leaves the content out (a detached signature).
    var isDetached: Bool { CMS_is_detached(handle) == 1 }

    /// How many SignerInfos it has.
    var signerCount: Int {
        guard let infos = CMS_get0_SignerInfos(handle) else { return 0 }
        return Int(swg_sk_CMS_SignerInfo_num(infos))
    }

    /// The (only) signer: its certificate if the CMS carries it, and its digest and signature algorithms.
    func signer() -> (certificate: X509Certificate?, digest: AlgorithmName, signature: AlgorithmName)? {
        guard let infos = CMS_get0_SignerInfos(handle), swg_sk_CMS_SignerInfo_num(infos) > 0,
              let info = swg_sk_CMS_SignerInfo_value(infos, 0) else { return nil }
        // Matches the carried certificates to the SignerInfos (CMS_verify does the same), so get0_algs
        // can hand back the signer's certificate. A missing certificate is not an error here.
        _ = withCertificateStack { stack in CMS_set1_signers_certs(handle, stack, 0) }
        OpenSSLErrorQueue.clear()
        var key: OpaquePointer?
        var certificate: OpaquePointer?
        var digestAlgorithm: UnsafeMutablePointer<X509_ALGOR>?
        var signatureAlgorithm: UnsafeMutablePointer<X509_ALGOR>?
        CMS_SignerInfo_get0_algs(info, &key, &certificate, &digestAlgorithm, &signatureAlgorithm)
        let signer = certificate.map { pointer in certificates.first { $0.handle == pointer } ?? X509Certificate(borrowing: pointer) }
        return (signer,
                Self.algorithm(digestAlgorithm, isDigest: true), Self.algorithm(signatureAlgorithm, isDigest: false))
    }

    private static func algorithm(_ algorithm: UnsafeMutablePointer<X509_ALGOR>?, isDigest: Bool) -> AlgorithmName {
        guard let algorithm else { return AlgorithmName(name: "?", digest: nil) }
        var object: OpaquePointer?
        X509_ALGOR_get0(&object, nil, nil, algorithm)
        return Self.algorithm(object: object, isDigest: isDigest)
    }

    /// The names of an algorithm object: short name for digests, long name and implied digest otherwise.
    fileprivate static func algorithm(object: OpaquePointer?, isDigest: Bool) -> AlgorithmName {
        let nid = OBJ_obj2nid(object)
        guard nid != NID_undef else { return AlgorithmName(name: oidText(object), digest: isDigest ? oidText(object) : nil) }
        if isDigest { return AlgorithmName(name: shortName(nid) ?? "?", digest: shortName(nid)) }
        var digestNID: Int32 = NID_undef
        var keyNID: Int32 = NID_undef
        if OBJ_find_sigid_algs(nid, &digestNID, &keyNID) == 1 {
            return AlgorithmName(name: longName(nid) ?? "?", digest: shortName(digestNID))
        }
        return AlgorithmName(name: longName(nid) ?? "?", digest: nil)
    }

    /// Calls `body` with the carried certificates as a borrowed STACK_OF(X509) (nil when there are none).
    private func withCertificateStack<T>(_ body: (OpaquePointer?) -> T) -> T {
        guard !certificates.isEmpty, let stack = swg_sk_X509_new_null() else { return body(nil) }
        defer { swg_sk_X509_free(stack) }
        for certificate in certificates { _ = swg_sk_X509_push(stack, certificate.handle) }
        return withExtendedLifetime(certificates) { body(stack) }
    }

    /// Checks the signature over the content: message digest and signed attributes. No chain check here
    /// (CMS_NO_SIGNER_CERT_VERIFY): the caller does that against the agency's store with its own policy.
    /// CMS_BINARY, so the bytes are digested exactly as received, never MIME-canonicalized.
    func verifySignature(over source: CMSContentSource, returningContent: Bool) throws(SignatureError) -> CMSSignatureCheck {
        OpenSSLErrorQueue.clear()
        let flags = UInt32(CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY)
        var output: OpaquePointer?
        if returningContent {
            guard let bio = BIO_new(BIO_s_mem()) else {
                throw SignatureError(code: "sig.internal", path: "", message: "BIO_new failed",
                                     openSSLErrors: OpenSSLErrorQueue.drainTexts())
            }
            output = bio
        }
        defer { if let output { BIO_free(output) } }
        return try check(source: source, output: output, flags: flags)
    }

    private func check(source: CMSContentSource, output: OpaquePointer?, flags: UInt32) throws(SignatureError) -> CMSSignatureCheck {
        let result: Int32
        switch source {
        case .embedded:
            result = withCertificateStack { stack in CMS_verify(handle, stack, nil, nil, output, flags) }
        case .bytes(let bytes):
            result = withMemoryBIO(bytes) { bio in
                withCertificateStack { stack in CMS_verify(handle, stack, nil, bio, output, flags) }
            } ?? 0
        case .file(let path):
            guard let bio = BIO_new_file(path, "rb") else {
                throw SignatureError(code: "sig.io", path: path, message: "cannot open the signed content",
                                     openSSLErrors: OpenSSLErrorQueue.drainTexts())
            }
            defer { BIO_free(bio) }
            result = withCertificateStack { stack in CMS_verify(handle, stack, nil, bio, output, flags) }
        }
        let errors = OpenSSLErrorQueue.drain()
        if result == 1 { return .verified(content: output.map(memoryBIOBytes)) }
        let texts = errors.map(\.text)
        let cmsReasons = Set(errors.filter { $0.library == ERR_LIB_CMS }.map(\.reason))
        if cmsReasons.contains(CMS_R_SIGNER_CERTIFICATE_NOT_FOUND) { return .signerCertificateMissing(texts) }
        if !cmsReasons.isDisjoint(with: [CMS_R_VERIFICATION_FAILURE, CMS_R_CONTENT_VERIFY_ERROR]) {
            return .badSignature(texts)
        }
        return .malformed(texts)
    }
}

// MARK: - Private keys and signing

/// A private key (owns an `EVP_PKEY*`). Never printed: no description, no key material in errors.
final class PrivateSigningKey: @unchecked Sendable {
    fileprivate let handle: OpaquePointer

    private init(handle: OpaquePointer) { self.handle = handle }

    deinit { EVP_PKEY_free(handle) }

    /// Reads an unencrypted PEM private key (PKCS#8 or traditional). Encrypted keys are refused rather
    /// than letting OpenSSL's default callback prompt on a terminal the service does not have.
    static func readPEMFile(_ path: String) throws(SignatureError) -> PrivateSigningKey {
        OpenSSLErrorQueue.clear()
        guard let bio = BIO_new_file(path, "rb") else {
            throw SignatureError(code: "signer.key-unreadable", path: path, message: "cannot open the private key file",
                                 openSSLErrors: OpenSSLErrorQueue.drainTexts())
        }
        defer { BIO_free(bio) }
        let noPassphrase: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { _, _, _, _ in -1 }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, noPassphrase, nil) else {
            throw SignatureError(code: "signer.key-unreadable", path: path,
                                 message: "not an unencrypted PEM private key (encrypted keys are not supported)",
                                 openSSLErrors: OpenSSLErrorQueue.drainTexts())
        }
        return PrivateSigningKey(handle: key)
    }

    /// Whether this key is the private half of `certificate`'s public key.
    func matches(_ certificate: X509Certificate) -> Bool {
        let ok = X509_check_private_key(certificate.handle, handle) == 1
        OpenSSLErrorQueue.clear()
        return ok
    }
}

/// Makes a detached CMS SignedData (DER) over `source` with SHA-256, the signer's certificate and `chain`
/// included, CMS_BINARY so the bytes are signed exactly as they will be sent.
func cmsSignDetached(source: CMSContentSource, certificate: X509Certificate, key: PrivateSigningKey,
                     chain: [X509Certificate]) throws(SignatureError) -> [UInt8] {
    OpenSSLErrorQueue.clear()
    func failure(_ step: String) -> SignatureError {
        SignatureError(code: "signer.failed", path: "", message: "\(step) failed", openSSLErrors: OpenSSLErrorQueue.drainTexts())
    }
    guard let extra = swg_sk_X509_new_null() else { throw failure("sk_X509_new_null") }
    defer { swg_sk_X509_free(extra) }
    for certificate in chain { _ = swg_sk_X509_push(extra, certificate.handle) }
    let flags = UInt32(CMS_DETACHED | CMS_BINARY | CMS_PARTIAL)
    // PARTIAL, then add1_signer with an explicit digest, then final: CMS_sign alone would pick the key's
    // default digest; the gateway states SHA-256.
    guard let cms = CMS_sign(nil, nil, extra, nil, flags) else { throw failure("CMS_sign") }
    defer { CMS_ContentInfo_free(cms) }
    guard CMS_add1_signer(cms, certificate.handle, key.handle, EVP_sha256(), flags) != nil else {
        throw failure("CMS_add1_signer")
    }
    let finalFlags = UInt32(CMS_DETACHED | CMS_BINARY)
    let finished: Int32
    switch source {
    case .bytes(let bytes):
        finished = withMemoryBIO(bytes) { bio in CMS_final(cms, bio, nil, finalFlags) } ?? 0
    case .file(let path):
        guard let bio = BIO_new_file(path, "rb") else {
            throw SignatureError(code: "sig.io", path: path, message: "cannot open the file to sign",
                                 openSSLErrors: OpenSSLErrorQueue.drainTexts())
        }
        defer { BIO_free(bio) }
        finished = CMS_final(cms, bio, nil, finalFlags)
    case .embedded:
        throw SignatureError(code: "signer.failed", path: "", message: "a detached signature needs content")
    }
    guard finished == 1 else { throw failure("CMS_final") }
    guard let output = BIO_new(BIO_s_mem()) else { throw failure("BIO_new") }
    defer { BIO_free(output) }
    guard i2d_CMS_bio(output, cms) == 1 else { throw failure("i2d_CMS_bio") }
    return memoryBIOBytes(output)
}

// MARK: - The plain-layout signature check (CMSPlainSignedData)

/// The three digests the plain layout allows, fetched once: `EVP_sha256()` and friends make OpenSSL 3
/// fetch the implementation again on every init, behind a lock.
private enum FetchedDigests {
    nonisolated(unsafe) static let byName: [String: OpaquePointer] = {
        var table: [String: OpaquePointer] = [:]
        for name in ["SHA256", "SHA384", "SHA512"] {
            if let md = EVP_MD_fetch(nil, name, nil) { table[name] = md }
        }
        return table
    }()
}

/// RFC 5652 §5.4 done with OpenSSL's primitives, for what CMSPlainSignedData has already read.
enum PlainSignatureCheck {
    /// The digest (`SHA256`, `SHA384`, `SHA512`) of `bytes`; nil if OpenSSL fails.
    static func digest(_ name: String, of bytes: ArraySlice<UInt8>) -> [UInt8]? {
        guard let md = FetchedDigests.byName[name] else { return nil }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { raw in EVP_Digest(raw.baseAddress, raw.count, &out, &length, md, nil) }
        return ok == 1 ? Array(out.prefix(Int(length))) : nil
    }

    /// The digest of the file at `path`, streamed in 16 KiB reads; nil if it cannot be read.
    static func digest(_ name: String, ofFileAt path: String) -> [UInt8]? {
        guard let md = FetchedDigests.byName[name], let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex2(context, md, nil) == 1 else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // A stack buffer, neither allocated nor zeroed per file: both cost more than hashing 5 KB.
        let complete = withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 16) { buffer -> Bool in
            while true {
                let count = read(fd, buffer.baseAddress, buffer.count)
                if count == 0 { return true }
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                guard EVP_DigestUpdate(context, buffer.baseAddress, count) == 1 else { return false }
            }
        }
        guard complete else { return nil }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &out, &length) == 1 else { return nil }
        return Array(out.prefix(Int(length)))
    }

    /// Whether `signature` verifies over `data` with `certificate`'s public key and digest `name`
    /// (PKCS #1 v1.5 for RSA keys, DER ECDSA-Sig-Value for EC keys: OpenSSL's defaults).
    static func verify(_ signature: ArraySlice<UInt8>, over data: [UInt8], digest name: String,
                       certificate: X509Certificate) -> Bool {
        defer { OpenSSLErrorQueue.clear() }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        let copied = certificate.verifyContexts.withLockedValue { contexts -> Bool in
            if contexts[name] == nil {
                guard let key = X509_get0_pubkey(certificate.handle), let prepared = EVP_MD_CTX_new() else { return false }
                guard EVP_DigestVerifyInit_ex(prepared, nil, name, nil, nil, key, nil) == 1 else {
                    EVP_MD_CTX_free(prepared)
                    return false
                }
                contexts[name] = prepared
            }
            return EVP_MD_CTX_copy_ex(context, contexts[name]) == 1
        }
        guard copied else { return false }
        return signature.withUnsafeBytes { signatureBytes in
            data.withUnsafeBytes { dataBytes in
                EVP_DigestVerify(context, signatureBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), signatureBytes.count,
                                 dataBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), dataBytes.count) == 1
            }
        }
    }

    /// OpenSSL's names for an allowed algorithm OID, as `CMSSignedData.signer()` reports them; worked
    /// out once per OID (an object decode and two name lookups per file otherwise).
    static func algorithmName(oid: [UInt8], isDigest: Bool) -> AlgorithmName {
        let table = isDigest ? AlgorithmNames.digests : AlgorithmNames.signatures
        return table[oid] ?? AlgorithmNames.name(oid: oid, isDigest: isDigest)
    }

    /// Whether `certificate`'s key is of OpenSSL's type `name` ("RSA", "EC").
    static func keyIs(_ name: String, _ certificate: X509Certificate) -> Bool {
        guard let key = X509_get0_pubkey(certificate.handle) else { return false }
        return EVP_PKEY_is_a(key, name) == 1
    }
}

/// The names of the plain layout's algorithms, computed once.
private enum AlgorithmNames {
    static let digests = Dictionary(uniqueKeysWithValues: CMSPlainSignedData.digests.keys.map { ($0, name(oid: $0, isDigest: true)) })
    static let signatures = Dictionary(uniqueKeysWithValues: CMSPlainSignedData.signatureAlgorithms.keys.map {
        ($0, name(oid: $0, isDigest: false))
    })

    static func name(oid: [UInt8], isDigest: Bool) -> AlgorithmName {
        let der = [0x06] + DERReader.length(oid.count) + oid
        let object: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_ASN1_OBJECT(nil, &cursor, buffer.count)
        }
        defer { ASN1_OBJECT_free(object) }
        return CMSSignedData.algorithm(object: object, isDigest: isDigest)
    }
}
