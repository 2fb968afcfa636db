import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a verifier accepts beyond "the signature verifies": revocation and algorithm rules.
public struct SignaturePolicy: Sendable, Hashable {
    /// How CRLs are used.
    public enum Revocation: Sendable, Hashable {
        /// Check every certificate whose issuer has a CRL among the anchors; an issuer without one passes.
        /// A CRL that exists but is stale, not yet valid or badly signed still fails (`sig.revocation-unknown`).
        case whereConfigured
        /// Every certificate in the chain must be covered by a current CRL; anchors without CRLs are refused.
        case required
    }

    /// How CRLs are used; `.whereConfigured` by default.
    public var revocation: Revocation
    /// Digests accepted in the CMS signature and in every certificate signature below the root, as
    /// OpenSSL names them (`SHA256`, ...). MD5 and SHA-1 are not in the default set.
    public var allowedDigests: Set<String>
    /// The shortest RSA key accepted anywhere in the chain.
    public var minimumRSABits: Int

    /// Creates a policy; the defaults are the gateway's standard.
    public init(revocation: Revocation = .whereConfigured,
                allowedDigests: Set<String> = ["SHA256", "SHA384", "SHA512", "SHA3-256", "SHA3-384", "SHA3-512"],
                minimumRSABits: Int = 2048) {
        self.revocation = revocation
        self.allowedDigests = allowedDigests
        self.minimumRSABits = minimumRSABits
    }

    /// CRLs where configured, SHA-2/SHA-3 only, RSA of at least 2048 bits.
    public static let standard = SignaturePolicy()
}

/// The certificates that belong to one partner: a signature by anyone else is `sig.signer-mismatch`.
///
/// A certificate matches if any one listed identity matches it. Subjects are RFC 2253 distinguished
/// names (`CN=CARRIERX,O=Carrier X,C=CN`; OpenSSL's slash form `/C=CN/O=Carrier X/CN=CARRIERX` is
/// accepted too), compared attribute by attribute with spaces around separators ignored. Serials are
/// hexadecimal (colons and leading zeros ignored), fingerprints SHA-256 hexadecimal (colons ignored).
/// Serials are only unique per issuing CA: prefer subjects or fingerprints when an agency has several
/// intermediates. An empty binding matches nobody (fail closed).
public struct SignerBinding: Sendable, Hashable {
    /// The partner's name, for messages.
    public let partner: String
    /// Accepted subject distinguished names.
    public let subjects: [String]
    /// Accepted certificate serial numbers (hexadecimal).
    public let serialNumbers: [String]
    /// Accepted SHA-256 certificate fingerprints (hexadecimal).
    public let fingerprints: [String]
    // Normalized once here: matching runs for every file.
    private let subjectForms: [[String]]
    private let serialForms: Set<String>
    private let fingerprintForms: Set<String>

    /// Creates a binding.
    public init(partner: String, subjects: [String] = [], serialNumbers: [String] = [], fingerprints: [String] = []) {
        self.partner = partner
        self.subjects = subjects
        self.serialNumbers = serialNumbers
        self.fingerprints = fingerprints
        self.subjectForms = subjects.map(Self.normalizedName)
        self.serialForms = Set(serialNumbers.map(Self.normalizedSerial))
        self.fingerprintForms = Set(fingerprints.map { $0.lowercased().filter { $0 != ":" } })
    }

    /// Whether `certificate` is one of the partner's.
    public func matches(_ certificate: CertificateEvidence) -> Bool {
        if fingerprintForms.contains(certificate.sha256Fingerprint) { return true }
        if !serialForms.isEmpty && serialForms.contains(Self.normalizedSerial(certificate.serialNumber)) { return true }
        if subjects.contains(certificate.subject) { return true }
        guard !subjectForms.isEmpty else { return false }
        let subject = Self.normalizedName(certificate.subject)
        return subjectForms.contains(subject)
    }

    /// RDNs split at unescaped commas, each trimmed, attribute names upper-cased; slash form reversed.
    static func normalizedName(_ name: String) -> [String] {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        var parts: [String] = []
        if trimmed.hasPrefix("/") {
            parts = trimmed.split(separator: "/").map(String.init).reversed()
        } else {
            var current = ""
            var escaped = false
            for character in trimmed {
                if escaped { current.append(character); escaped = false; continue }
                if character == "\\" { current.append(character); escaped = true; continue }
                if character == "," { parts.append(current); current = ""; continue }
                current.append(character)
            }
            parts.append(current)
        }
        return parts.map { part in
            let pieces = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return pieces.count == 2 ? pieces[0].uppercased() + "=" + pieces[1] : part.trimmingCharacters(in: .whitespaces)
        }
    }

    static func normalizedSerial(_ serial: String) -> String {
        var text = serial.uppercased().filter { $0 != ":" && $0 != " " }
        if text.hasPrefix("0X") { text.removeFirst(2) }
        let trimmed = text.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }
}

/// Verifies CMS (PKCS#7) signatures over the exact received bytes against one agency's trust anchors.
///
/// The validation time is always an argument (the time the file was received), so a rerun reaches the
/// same verdict as the first run. Checks, in order: the signature file decodes as one-signer SignedData
/// of the expected kind; the CMS digest and signature algorithms are allowed; the signature matches the
/// bytes; the signer's chain reaches one of the agency's roots at the validation time, unrevoked; no
/// weak digest or short RSA key in the chain; the signer's key usage permits signing; the signer is one
/// of the partner's certificates. The first failure decides the code.
///
/// Thread-safe, with two caches (both off with `chainCacheCapacity: 0`): decoded certificates by exact
/// DER (OpenSSL 3.0 decodes a certificate ~7x slower than it verifies an RSA signature; see
/// CMSCertificateSplit), and accepted chains per (signer, carried certificates) together with the
/// interval of validation times over which the answer cannot change: the chain's validity periods and
/// every CRL's update times bound it, so a cached answer is the answer OpenSSL would give. The CMS
/// signature over the bytes is verified every time.
public final class CMSVerifier: Sendable {
    /// The agency's anchors.
    public let anchors: TrustAnchors
    /// The policy applied.
    public let policy: SignaturePolicy
    private let cache = NIOLockedValueBox([DERKey: ChainAcceptance]())
    private let cacheCapacity: Int
    /// Decoded certificates by exact DER: OpenSSL 3.0 takes ~130 µs to decode one (CMSCertificateSplit).
    private let certificates = NIOLockedValueBox([DERKey: X509Certificate]())
    /// Whether the plain layout is checked without OpenSSL's CMS layer (CMSPlainSignedData).
    private let fastPath: Bool

    /// Creates a verifier; fails if the policy requires CRLs and the anchors have none.
    /// `chainCacheCapacity` bounds the chain cache (0 turns it off: every file pays the full chain check).
    /// `openSSLOnly` sends every file through OpenSSL's CMS layer, never the plain-layout check
    /// (CMSPlainSignedData): for the tests that compare the two and for the benchmark.
    public init(anchors: TrustAnchors, policy: SignaturePolicy = .standard, chainCacheCapacity: Int = 4096,
                openSSLOnly: Bool = false) throws(SignatureError) {
        if policy.revocation == .required && !anchors.hasCRLs {
            throw SignatureError(code: "trust.no-crl", path: "",
                                 message: "the policy requires CRLs but agency \(anchors.agency) has none configured")
        }
        self.anchors = anchors
        self.policy = policy
        self.cacheCapacity = chainCacheCapacity
        self.fastPath = !openSSLOnly
    }

    // MARK: Public entry points

    /// Verifies the detached signature of the file at `contentPath`, read from `signaturePath`
    /// (default: the same path plus `.p7s`). The content is streamed, never loaded whole.
    /// Throws only for what is not the partner's doing (an unreadable file, OpenSSL failing).
    public func verifyDetached(contentAt contentPath: String, signatureAt signaturePath: String? = nil,
                               signer: SignerBinding, at validationTime: Date) throws(SignatureError) -> SignatureVerdict {
        let path = signaturePath ?? contentPath + ".p7s"
        var evidence = SignatureEvidence(kind: .detached, validationTime: validationTime, agency: anchors.agency)
        evidence.signatureFile = path
        guard let signature = try Self.readFile(path) else {
            return SignatureVerdict(outcome: .failed(SignatureFailure(code: .missing, operatorReason: "no signature file \(path)")),
                                    evidence: evidence)
        }
        return try judge(signature: signature, evidence: evidence, source: .file(contentPath), signer: signer).verdict
    }

    /// Verifies a detached signature over `content`, both already in memory.
    public func verifyDetached(content: [UInt8], signature: [UInt8], signer: SignerBinding,
                               at validationTime: Date) throws(SignatureError) -> SignatureVerdict {
        let evidence = SignatureEvidence(kind: .detached, validationTime: validationTime, agency: anchors.agency)
        return try judge(signature: signature, evidence: evidence, source: .bytes(content), signer: signer).verdict
    }

    /// Verifies the enveloping signature file at `path` (a `.p7m`); the content comes back only if valid.
    public func verifyEnveloping(fileAt path: String, signer: SignerBinding,
                                 at validationTime: Date) throws(SignatureError) -> EnvelopedContent {
        var evidence = SignatureEvidence(kind: .enveloping, validationTime: validationTime, agency: anchors.agency)
        evidence.signatureFile = path
        guard let signature = try Self.readFile(path) else {
            let verdict = SignatureVerdict(outcome: .failed(SignatureFailure(code: .missing, operatorReason: "no signed file \(path)")),
                                           evidence: evidence)
            return EnvelopedContent(verdict: verdict, content: nil)
        }
        let (verdict, content) = try judge(signature: signature, evidence: evidence, source: .embedded, signer: signer)
        return EnvelopedContent(verdict: verdict, content: verdict.isValid ? content : nil)
    }

    /// Verifies an enveloping signature already in memory; the content comes back only if valid.
    public func verifyEnveloping(_ signature: [UInt8], signer: SignerBinding,
                                 at validationTime: Date) throws(SignatureError) -> EnvelopedContent {
        let evidence = SignatureEvidence(kind: .enveloping, validationTime: validationTime, agency: anchors.agency)
        let (verdict, content) = try judge(signature: signature, evidence: evidence, source: .embedded, signer: signer)
        return EnvelopedContent(verdict: verdict, content: verdict.isValid ? content : nil)
    }

    // MARK: The checks

    private func judge(signature: [UInt8], evidence initial: SignatureEvidence, source: CMSContentSource,
                       signer binding: SignerBinding) throws(SignatureError) -> (verdict: SignatureVerdict, content: [UInt8]?) {
        var evidence = initial
        let file = evidence.signatureFile.map { " \($0)" } ?? ""
        func fail(_ code: SignatureFailureCode, _ reason: String) -> (verdict: SignatureVerdict, content: [UInt8]?) {
            (SignatureVerdict(outcome: .failed(SignatureFailure(code: code, operatorReason: reason)), evidence: evidence), nil)
        }

        guard !signature.isEmpty else { return fail(.missing, "signature file\(file) is empty") }
        evidence.signatureBytes = signature

        let checked: CheckedSignature
        if fastPath, let plain = plainLayoutCheck(signature, kind: evidence.kind, source: source) {
            checked = plain
        } else {
            switch try openSSLCheck(signature, evidence: &evidence, source: source, file: file) {
            case .checked(let stage): checked = stage
            case .refused(let code, let reason): return fail(code, reason)
            }
        }
        evidence.encoding = checked.encoding
        evidence.digestAlgorithm = checked.digest
        evidence.signatureAlgorithm = checked.signature
        let leaf = checked.leaf
        let content = checked.content

        let time = Self.epochSeconds(evidence.validationTime)
        let carried = checked.carried
        let accepted: ChainAcceptance
        switch checkChain(leaf: leaf, carried: carried, at: time) {
        case .accepted(let chain):
            accepted = chain
        case .refused(let code, let reason, let signerEvidence, let crls):
            evidence.signer = signerEvidence
            evidence.crls = crls
            return fail(code, reason)
        }
        evidence.signer = accepted.chain.first
        evidence.chain = accepted.chain
        evidence.crls = accepted.crls

        guard let signerEvidence = evidence.signer, binding.matches(signerEvidence) else {
            return fail(.signerMismatch, "signed by \(evidence.signer?.subject ?? "?") (serial \(evidence.signer?.serialNumber ?? "?"), "
                        + "SHA-256 \(evidence.signer?.sha256Fingerprint ?? "?")), which is not a certificate registered for partner \(binding.partner)")
        }
        return (SignatureVerdict(outcome: .valid, evidence: evidence), content)
    }

    // MARK: The signature over the bytes

    /// What the signature check hands on to the chain check.
    private struct CheckedSignature {
        var encoding: SignatureEncoding
        var digest: String
        var signature: String
        var leaf: X509Certificate
        var carried: [X509Certificate]
        var content: [UInt8]?
    }

    private enum SignatureStage {
        case checked(CheckedSignature)
        case refused(SignatureFailureCode, String)
    }

    /// The carried certificate for `der`: from the cache when it is on, else decoded now.
    private func certificate(_ der: [UInt8]) -> X509Certificate? {
        cacheCapacity > 0 ? decodedCertificate(der) : X509Certificate.decode(der: der)
    }

    /// The check for the plain layout (CMSPlainSignedData): nil for anything it does not recognise and
    /// for anything that does not verify, so OpenSSL decides and words every refusal.
    private func plainLayoutCheck(_ signature: [UInt8], kind: SignatureKind, source: CMSContentSource) -> CheckedSignature? {
        let encoding: SignatureEncoding = PEMText.looksLikePEM(signature) ? .pem : .der
        guard let der = encoding == .der ? signature : CMSSignedData.pemBody(signature),
              let plain = CMSPlainSignedData.parse(der), (plain.content == nil) == (kind == .detached),
              let signerIndex = plain.signerIndex()
        else { return nil }
        let digest = PlainSignatureCheck.algorithmName(oid: plain.digestOID, isDigest: true)
        let algorithm = PlainSignatureCheck.algorithmName(oid: plain.signatureOID, isDigest: false)
        guard [digest.digest, algorithm.digest].allSatisfy({ $0.map(policy.allowedDigests.contains) ?? true }) else { return nil }
        var carried: [X509Certificate] = []
        for der in plain.certificates {
            guard let decoded = certificate(der) else { return nil }
            carried.append(decoded)
        }
        let leaf = carried[signerIndex]
        guard PlainSignatureCheck.keyIs(plain.keyType, leaf) else { return nil }
        let contentDigest: [UInt8]?
        switch source {
        case .bytes(let bytes): contentDigest = PlainSignatureCheck.digest(plain.digest, of: bytes[...])
        case .file(let path): contentDigest = PlainSignatureCheck.digest(plain.digest, ofFileAt: path)
        case .embedded: contentDigest = plain.content.flatMap { PlainSignatureCheck.digest(plain.digest, of: der[$0]) }
        }
        guard let contentDigest, contentDigest.elementsEqual(plain.messageDigest),
              PlainSignatureCheck.verify(plain.signature, over: plain.signedAttributes, digest: plain.digest, certificate: leaf)
        else { return nil }
        return CheckedSignature(encoding: encoding, digest: digest.name, signature: algorithm.name, leaf: leaf, carried: carried,
                                content: plain.content.map { Array(der[$0]) })
    }

    /// The check OpenSSL does whole (`d2i_CMS_ContentInfo`, `CMS_verify`), which words every refusal.
    private func openSSLCheck(_ signature: [UInt8], evidence: inout SignatureEvidence, source: CMSContentSource,
                              file: String) throws(SignatureError) -> SignatureStage {
        func openSSL(_ errors: [String]) -> String { errors.isEmpty ? "" : " (openssl: \(errors.joined(separator: "; ")))" }
        let cms: CMSSignedData
        let lookup: (([UInt8]) -> X509Certificate?)? = cacheCapacity > 0 ? { self.decodedCertificate($0) } : nil
        switch CMSSignedData.decode(signature, certificate: lookup) {
        case .failure(let failure):
            return .refused(.malformed, "signature file\(file) is not a \(failure.encoding == .pem ? "PEM" : "DER") CMS structure"
                        + openSSL(failure.openSSLErrors))
        case .success(let decoded):
            cms = decoded
        }
        evidence.encoding = cms.encoding

        let type = cms.contentType
        guard type.isSignedData else { return .refused(.malformed, "signature file\(file) holds \(type.name), not signed data") }
        switch (evidence.kind, cms.isDetached) {
        case (.detached, false):
            return .refused(.wrongFile, "signature file\(file) carries its own content (an enveloping signature) where a detached .p7s was expected")
        case (.enveloping, true):
            return .refused(.wrongFile, "signed file\(file) carries no content (a detached signature) where an enveloping .p7m was expected")
        default: break
        }
        let signerCount = cms.signerCount
        guard signerCount == 1, let signer = cms.signer() else {
            return .refused(.malformed, "signature file\(file) has \(signerCount) signers; exactly one is accepted")
        }
        evidence.digestAlgorithm = signer.digest.name
        evidence.signatureAlgorithm = signer.signature.name
        for digest in [signer.digest.digest ?? signer.digest.name, signer.signature.digest].compactMap({ $0 })
        where !policy.allowedDigests.contains(digest) {
            evidence.signer = signer.certificate?.evidence
            return .refused(.weakAlgorithm, "the CMS signature uses digest \(digest) (\(signer.signature.name)); allowed: "
                        + policy.allowedDigests.sorted().joined(separator: ", "))
        }
        guard let leaf = signer.certificate else {
            return .refused(.untrusted, "signature file\(file) does not carry the signer's certificate")
        }

        switch try cms.verifySignature(over: source, returningContent: evidence.kind == .enveloping) {
        case .verified(let embedded):
            return .checked(CheckedSignature(encoding: cms.encoding, digest: signer.digest.name, signature: signer.signature.name,
                                             leaf: leaf, carried: cms.certificates, content: embedded))
        case .badSignature(let errors):
            evidence.signer = leaf.evidence
            return .refused(.badSignature, "the signature does not match the \(evidence.kind == .detached ? "file's bytes" : "enveloped content")"
                        + openSSL(errors))
        case .signerCertificateMissing(let errors):
            return .refused(.untrusted, "signature file\(file) does not carry the signer's certificate" + openSSL(errors))
        case .malformed(let errors):
            evidence.signer = leaf.evidence
            return .refused(.malformed, "OpenSSL could not verify the CMS structure" + openSSL(errors))
        }

    }

    // MARK: Chain, with its cache

    /// A chain that passed every chain-level check, and the validation times it stays accepted for.
    private struct ChainAcceptance: Sendable {
        var chain: [CertificateEvidence]
        var crls: [CRLEvidence]
        /// First second of the interval (inclusive).
        var from: Int64
        /// End of the interval (exclusive).
        var until: Int64
    }

    private enum ChainCheck {
        case accepted(ChainAcceptance)
        case refused(SignatureFailureCode, String, CertificateEvidence, [CRLEvidence])
    }

    /// The decoded certificate for `der`, decoded once per distinct certificate.
    private func decodedCertificate(_ der: [UInt8]) -> X509Certificate? {
        let key = DERKey([der])
        if let known = certificates.withLockedValue({ $0[key] }) { return known }
        guard let decoded = X509Certificate.decode(der: der) else { return nil }
        certificates.withLockedValue { entries in
            if entries.count >= cacheCapacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = decoded
        }
        return decoded
    }

    private func checkChain(leaf: X509Certificate, carried: [X509Certificate], at time: Int64) -> ChainCheck {
        guard cacheCapacity > 0 else { return verifyChain(leaf: leaf, carried: carried, at: time) }
        // Keyed by the exact bytes, not a digest of them: no collision to reason about.
        let key = DERKey([leaf.der] + carried.map(\.der))
        if let hit = cache.withLockedValue({ $0[key] }), hit.from <= time, time < hit.until {
            return .accepted(hit)
        }
        let check = verifyChain(leaf: leaf, carried: carried, at: time)
        if case .accepted(let acceptance) = check {
            cache.withLockedValue { entries in
                if entries.count >= cacheCapacity { entries.removeAll(keepingCapacity: true) }
                entries[key] = acceptance
            }
        }
        return check
    }

    private func verifyChain(leaf: X509Certificate, carried: [X509Certificate], at time: Int64) -> ChainCheck {
        let checkRevocation = anchors.hasCRLs
        let outcome = anchors.store.verifyChain(leaf: leaf, untrusted: carried, at: time, checkRevocation: checkRevocation,
                                                requireCRL: policy.revocation == .required)
        switch outcome {
        case .failed(let failure):
            let when = Self.format(time)
            let at = "\(failure.certificateSubject ?? "certificate") (chain depth \(failure.depth))"
            var detail = "\(at): \(failure.message) [X509_V_ERR \(failure.errorNumber)] at \(when), against the anchors of \(anchors.agency)"
            if failure.kind == .untrusted { detail += "; the signer's certificate was issued by \(leaf.issuer)" }
            let code: SignatureFailureCode
            switch failure.kind {
            case .expired: code = .expired
            case .notYetValid: code = .notYetValid
            case .revoked: code = .revoked
            case .revocationUnknown: code = .revocationUnknown
            case .weakAlgorithm: code = .weakAlgorithm
            case .untrusted, .unsuitablePurpose: code = .untrusted
            }
            // For a revocation, the CRL that listed it is the evidence.
            let crls = failure.kind == .revoked ? crlsDeciding([leaf], at: time).map(\.evidence) : []
            return .refused(code, detail, leaf.evidence, crls)
        case .verified(let chain):
            let evidence = chain.map(\.evidence)
            // Below the anchor every signature counts; the root's self-signature is not relied on (RFC 5280).
            for (index, certificate) in chain.enumerated() where !(index == chain.count - 1 && certificate.isSelfSigned) {
                let algorithm = certificate.signatureAlgorithm
                if let digest = algorithm.digest, !policy.allowedDigests.contains(digest) {
                    return .refused(.weakAlgorithm, "\(evidence[index].subject) (chain depth \(index)) is signed with "
                                    + "\(algorithm.name) (digest \(digest))", evidence[0], [])
                }
            }
            for (index, certificate) in chain.enumerated() {
                let key = certificate.publicKey
                if key.type == "RSA" && key.bits < policy.minimumRSABits {
                    return .refused(.weakAlgorithm, "\(evidence[index].subject) (chain depth \(index)) has a \(key.bits)-bit RSA key; "
                                    + "at least \(policy.minimumRSABits) required", evidence[0], [])
                }
            }
            if let usage = chain[0].signingKeyUsage, !usage.permitsSigning {
                return .refused(.keyUsage, "\(evidence[0].subject) has keyUsage \(usage.names.joined(separator: ", ")); "
                                + "digitalSignature or nonRepudiation required to sign", evidence[0], [])
            }
            let crls = checkRevocation ? crlsDeciding(Array(chain.dropLast()), at: time) : []
            let (from, until) = stableInterval(chain: chain, at: time)
            return .accepted(ChainAcceptance(chain: evidence, crls: crls.map(\.evidence), from: from, until: until))
        }
    }

    /// For each certificate, the CRL OpenSSL decides with at `time`: same issuer name, current at `time`,
    /// the newest thisUpdate among equals (OpenSSL's own tie-break).
    private func crlsDeciding(_ certificates: [X509Certificate], at time: Int64) -> [X509RevocationList] {
        certificates.compactMap { certificate in
            anchors.store.crls
                .filter { $0.covers(certificate) && $0.lastUpdate <= time && ($0.nextUpdate.map { time < $0 } ?? true) }
                .max { $0.lastUpdate < $1.lastUpdate }
        }
    }

    /// The interval around `time` in which no validity boundary of the chain and no CRL update time of the
    /// agency falls: OpenSSL's answer for this chain is the same for every validation time inside it.
    private func stableInterval(chain: [X509Certificate], at time: Int64) -> (Int64, Int64) {
        var boundaries: [Int64] = []
        for certificate in chain { boundaries += [certificate.notBefore, certificate.notAfter] }
        for crl in anchors.store.crls {
            boundaries.append(crl.lastUpdate)
            if let next = crl.nextUpdate { boundaries.append(next) }
        }
        // OpenSSL's comparisons are all "time >= boundary" (X509_cmp_time), so [from, until) is exact.
        let from = boundaries.filter { $0 <= time }.max() ?? Int64.min
        let until = boundaries.filter { $0 > time }.min() ?? Int64.max
        return (from, until)
    }

    /// Exact DER bytes as a dictionary key: equality compares every byte (no collision to reason
    /// about), while the hash takes each part's length and last 32 bytes only. A certificate ends with
    /// its signature value, which differs between any two certificates, and hashing all of a 1 KB
    /// certificate twice per file cost more than the lookups it served.
    private struct DERKey: Hashable {
        var parts: [[UInt8]]

        init(_ parts: [[UInt8]]) { self.parts = parts }

        func hash(into hasher: inout Hasher) {
            for part in parts {
                hasher.combine(part.count)
                part.withUnsafeBytes { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0.suffix(32))) }
            }
        }

        static func == (a: DERKey, b: DERKey) -> Bool {
            a.parts.count == b.parts.count && zip(a.parts, b.parts).allSatisfy { x, y in
                x.count == y.count && x.withUnsafeBytes { p in
                    y.withUnsafeBytes { q in p.isEmpty || memcmp(p.baseAddress!, q.baseAddress!, p.count) == 0 }
                }
            }
        }
    }

    // MARK: Helpers

    static func epochSeconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

    static func format(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// Reads a whole file; nil when it does not exist (a missing signature), throws for other failures.
    static func readFile(_ path: String) throws(SignatureError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let error = errno
            if error == ENOENT { return nil }
            throw SignatureError(code: "sig.io", path: path, message: "cannot open: \(String(cString: strerror(error)))")
        }
        defer { close(fd) }
        var status = stat()
        let expected = fstat(fd, &status) == 0 ? max(Int(status.st_size), 0) : 0
        // Sized from fstat and read in place, without zeroing first; a file that grows meanwhile is
        // read to its end anyway, in further reads appended.
        var failure: Int32 = 0
        var bytes = [UInt8](unsafeUninitializedCapacity: expected + 1) { buffer, initialized in
            while initialized < buffer.count {
                let count = read(fd, buffer.baseAddress! + initialized, buffer.count - initialized)
                if count == 0 { return }
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                initialized += count
            }
        }
        // A full buffer means the file grew after fstat: read on to its end.
        var chunk = [UInt8](repeating: 0, count: bytes.count > expected ? 64 * 1024 : 0)
        while failure == 0 && bytes.count > expected {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            bytes += chunk[..<count]
        }
        if failure != 0 {
            throw SignatureError(code: "sig.io", path: path, message: "cannot read: \(String(cString: strerror(failure)))")
        }
        return bytes
    }
}
