import Foundation
import Testing
import TestSupport

@testable import Gateway

// CMS signature verification against a real test PKI made with `openssl` (TestSupport/TestPKI.swift):
// every case of issue 4 gives its stable code, and the gateway's own signatures verify with
// `openssl cms -verify`.

/// A 5 KB CUSCAR-like payload with CR, LF and a NUL, so any re-encoding of the bytes would show.
private let payload: [UInt8] = {
    var bytes = Array("UNA:+.? 'UNB+UNOC:3+CARRIERX:ZZZ+SWG:ZZZ+260601:0000+REF0001'\r\n".utf8)
    var index = 0
    while bytes.count < 5_000 {
        bytes += Array("UNH+\(index)+CUSCAR:D:95B:UN'BGM+85+BL\(index)+9'\n".utf8)
        index += 1
    }
    bytes.append(0)
    return bytes
}()

private let carrierX = SignerBinding(partner: "CARRIERX", subjects: ["CN=CARRIERX,O=Carrier X,C=CN"])

@Suite("CMS signatures")
struct CMSVerifierTests {
    let pki: TestPKI
    let at = TestPKI.validationTime

    init() throws { pki = try TestPKI.get() }

    /// A CUSTOMS verifier over the given CRLs (default: root CRL and the intermediate's current one).
    func customs(crls: [String]? = nil, policy: SignaturePolicy = .standard) throws -> CMSVerifier {
        let anchors = try TrustAnchors(agency: "CUSTOMS", certificateFiles: pki.customs.certificateFiles,
                                       crlFiles: crls ?? pki.customs.crlFiles)
        return try CMSVerifier(anchors: anchors, policy: policy)
    }

    /// Writes `content` as `name` and its signature as `name.p7s` in a fresh directory; returns the content path.
    func dropDetached(_ content: [UInt8], signature: [UInt8], name: String = "BATCH001.edi") throws -> String {
        let dir = try pki.scratchDirectory()
        let path = dir.appendingPathComponent(name).path
        try Data(content).write(to: URL(fileURLWithPath: path))
        try Data(signature).write(to: URL(fileURLWithPath: path + ".p7s"))
        return path
    }

    func detached(_ identity: TestPKI.Identity, encoding: TestPKI.Encoding = .der, digest: String = "sha256",
                  verifier: CMSVerifier? = nil, signer: SignerBinding = carrierX, at time: Date? = nil) throws -> SignatureVerdict {
        let signature = try pki.signDetached(payload: payload, with: identity, encoding: encoding, digest: digest)
        let path = try dropDetached(payload, signature: signature)
        return try (verifier ?? customs()).verifyDetached(contentAt: path, signer: signer, at: time ?? at)
    }

    // MARK: Good signatures

    @Test("RSA-2048 detached DER beside the file: valid, with the evidence")
    func goodRSA() throws {
        let verdict = try detached(pki.carrierXRSA)
        #expect(verdict.isValid, "\(verdict)")
        let evidence = verdict.evidence
        #expect(evidence.kind == .detached && evidence.encoding == .der)
        #expect(evidence.agency == "CUSTOMS")
        #expect(evidence.validationTime == at)
        #expect(evidence.digestAlgorithm == "SHA256")
        #expect(evidence.signatureAlgorithm == "rsaEncryption")
        #expect(evidence.signer?.subject == "CN=CARRIERX,O=Carrier X,C=CN")
        #expect(evidence.signer?.serialNumber == pki.carrierXRSA.serialNumber)
        #expect(evidence.signer?.sha256Fingerprint == pki.carrierXRSA.sha256Fingerprint)
        #expect(evidence.signer?.publicKey == "RSA 2048")
        #expect(evidence.signer?.notBefore == pki.carrierXRSA.notBefore)
        #expect(evidence.signer?.pem.hasPrefix("-----BEGIN CERTIFICATE-----\n") == true)
        #expect(evidence.chain.map(\.subject) == ["CN=CARRIERX,O=Carrier X,C=CN", "CN=CUSTOMS Signing CA,O=China Customs,C=CN",
                                                  "CN=CUSTOMS Root CA,O=China Customs,C=CN"])
        // One CRL per certificate below the root: the intermediate's current CRL, then the root's.
        #expect(evidence.crls.map(\.path) == [pki.customs.intermediateCRL, pki.customs.rootCRL])
        #expect(evidence.crls.allSatisfy { $0.sha256.count == 64 })
        #expect(evidence.signatureSHA256?.count == 64)
        #expect(evidence.signatureFile?.hasSuffix("BATCH001.edi.p7s") == true)
    }

    @Test("ECDSA P-256 detached: valid, in DER and in PEM", arguments: [TestPKI.Encoding.der, .pem])
    func goodECDSA(encoding: TestPKI.Encoding) throws {
        let verdict = try detached(pki.carrierXECDSA, encoding: encoding)
        #expect(verdict.isValid, "\(verdict)")
        #expect(verdict.evidence.encoding == (encoding == .der ? .der : .pem))
        #expect(verdict.evidence.signatureAlgorithm?.hasPrefix("ecdsa-with-SHA256") == true)
        #expect(verdict.evidence.signer?.publicKey == "EC prime256v1")
    }

    @Test("RSA detached PEM and in-memory verification agree with the file form")
    func pemAndMemory() throws {
        let signature = try pki.signDetached(payload: payload, with: pki.carrierXRSA, encoding: .pem)
        let verdict = try customs().verifyDetached(content: payload, signature: signature, signer: carrierX, at: at)
        #expect(verdict.isValid, "\(verdict)")
        #expect(verdict.evidence.encoding == .pem)
    }

    @Test("the signer binding matches by subject (RFC 2253 or slash form), serial or fingerprint")
    func bindings() throws {
        let verifier = try customs()
        let signature = try pki.signDetached(payload: payload, with: pki.carrierXRSA)
        let x = pki.carrierXRSA
        for binding in [
            SignerBinding(partner: "X", subjects: ["CN=CARRIERX, O=Carrier X, C=CN"]),
            SignerBinding(partner: "X", subjects: ["/C=CN/O=Carrier X/CN=CARRIERX"]),
            SignerBinding(partner: "X", serialNumbers: ["00:" + x.serialNumber.lowercased()]),
            SignerBinding(partner: "X", fingerprints: [x.sha256Fingerprint.uppercased()]),
        ] {
            let verdict = try verifier.verifyDetached(content: payload, signature: signature, signer: binding, at: at)
            #expect(verdict.isValid, "\(binding): \(verdict)")
        }
        let nobody = try verifier.verifyDetached(content: payload, signature: signature, signer: SignerBinding(partner: "X"), at: at)
        #expect(nobody.code == .signerMismatch)
    }

    // MARK: Attacks and bad signatures

    @Test("a tampered payload is sig.bad-signature")
    func tampered() throws {
        let signature = try pki.signDetached(payload: payload, with: pki.carrierXRSA)
        var changed = payload
        changed[100] ^= 0x01
        let path = try dropDetached(changed, signature: signature)
        let verdict = try customs().verifyDetached(contentAt: path, signer: carrierX, at: at)
        #expect(verdict.code == .badSignature, "\(verdict)")
        #expect(verdict.evidence.signer?.subject == "CN=CARRIERX,O=Carrier X,C=CN")
    }

    @Test("a .p7s made for another file is sig.bad-signature")
    func signatureForAnotherFile() throws {
        let other = Array("UNA:+.? 'UNB+UNOC:3+CARRIERX+SWG+260601:0000+REF0002'".utf8)
        let signature = try pki.signDetached(payload: other, with: pki.carrierXECDSA)
        let path = try dropDetached(payload, signature: signature)
        let verdict = try customs().verifyDetached(contentAt: path, signer: carrierX, at: at)
        #expect(verdict.code == .badSignature, "\(verdict)")
    }

    @Test("a valid signature by another partner of the same agency is sig.signer-mismatch")
    func anotherPartner() throws {
        let verdict = try detached(pki.carrierYRSA)
        #expect(verdict.code == .signerMismatch, "\(verdict)")
        #expect(verdict.failure?.operatorReason.contains("CN=CARRIERY") == true)
        #expect(verdict.evidence.chain.count == 3)
    }

    @Test("the right subject from the wrong agency's CA is sig.untrusted; under that agency's anchors it is valid")
    func wrongAgency() throws {
        let verdict = try detached(pki.wrongAgency)
        #expect(verdict.code == .untrusted, "\(verdict)")
        let ciq = try CMSVerifier(anchors: TrustAnchors(agency: "CIQ", certificateFiles: pki.ciq.certificateFiles,
                                                        crlFiles: pki.ciq.crlFiles))
        let underCIQ = try detached(pki.wrongAgency, verifier: ciq)
        #expect(underCIQ.isValid, "\(underCIQ)")
    }

    @Test("expired at the validation time is sig.expired; inside its validity it is valid (the time is injected)")
    func expired() throws {
        let verifier = try customs(crls: pki.customs.allCRLFiles)
        let now = try detached(pki.expired, verifier: verifier)
        #expect(now.code == .expired, "\(now)")
        let then = try detached(pki.expired, verifier: verifier, at: TestPKI.timeWhenExpiredWasValid)
        #expect(then.isValid, "\(then)")
        // At 2021 the intermediate's 2026 CRL was not yet published: the 2020 one decided.
        #expect(then.evidence.crls.first?.path == pki.customs.intermediateCRLBeforeRevocation)
        let early = try detached(pki.carrierXRSA, verifier: verifier, at: TestPKI.timeWhenExpiredWasValid)
        #expect(early.code == .notYetValid, "\(early)")
    }

    @Test("a cached chain never outlives the certificate: valid now, expired after notAfter")
    func cacheRespectsTime() throws {
        let verifier = try customs()
        let signature = try pki.signDetached(payload: payload, with: pki.carrierXRSA)
        let first = try verifier.verifyDetached(content: payload, signature: signature, signer: carrierX, at: at)
        let again = try verifier.verifyDetached(content: payload, signature: signature, signer: carrierX, at: at)
        #expect(first.isValid && first == again)
        let later = try verifier.verifyDetached(content: payload, signature: signature, signer: carrierX,
                                                at: pki.carrierXRSA.notAfter.addingTimeInterval(1))
        #expect(later.code == .expired, "\(later)")
        let lastSecond = try verifier.verifyDetached(content: payload, signature: signature, signer: carrierX,
                                                     at: pki.carrierXRSA.notAfter.addingTimeInterval(-1))
        #expect(lastSecond.isValid, "\(lastSecond)")
    }

    @Test("without caches (whole-structure decoding, full chain check every time) the verdicts are the same")
    func uncached() throws {
        let anchors = try TrustAnchors(agency: "CUSTOMS", certificateFiles: pki.customs.certificateFiles, crlFiles: pki.customs.crlFiles)
        let cold = try CMSVerifier(anchors: anchors, chainCacheCapacity: 0)
        let warm = try CMSVerifier(anchors: anchors)
        let cases: [(TestPKI.Identity, SignatureFailureCode?)] = [
            (pki.carrierXRSA, nil), (pki.carrierXECDSA, nil), (pki.carrierYRSA, .signerMismatch), (pki.revoked, .revoked),
            (pki.expired, .expired), (pki.wrongAgency, .untrusted), (pki.keyEnciphermentOnly, .keyUsage), (pki.sha1Signed, .weakAlgorithm),
        ]
        for (identity, expected) in cases {
            for encoding in [TestPKI.Encoding.der, .pem] {
                let signature = try pki.signDetached(payload: payload, with: identity, encoding: encoding)
                let a = try cold.verifyDetached(content: payload, signature: signature, signer: carrierX, at: at)
                let b = try warm.verifyDetached(content: payload, signature: signature, signer: carrierX, at: at)
                #expect(a.code == expected, "\(identity.name) \(encoding): \(a)")
                #expect(a == b, "\(identity.name) \(encoding)")
            }
        }
    }

    @Test("revoked with the current CRL is sig.revoked; with the CRL from before the revocation it is valid")
    func revoked() throws {
        let verdict = try detached(pki.revoked)
        #expect(verdict.code == .revoked, "\(verdict)")
        #expect(verdict.evidence.crls.first?.path == pki.customs.intermediateCRL)
        #expect(verdict.evidence.crls.first?.revokedCount == 1)
        let before = try customs(crls: [pki.customs.rootCRL, pki.customs.intermediateCRLBeforeRevocation])
        let old = try detached(pki.revoked, verifier: before)
        #expect(old.isValid, "\(old)")
        #expect(old.evidence.crls.first?.path == pki.customs.intermediateCRLBeforeRevocation)
        // With both CRLs configured the newest current one decides, as OpenSSL does.
        let both = try detached(pki.revoked, verifier: customs(crls: pki.customs.allCRLFiles))
        #expect(both.code == .revoked, "\(both)")
    }

    @Test("a missing CRL is tolerated where configured, sig.revocation-unknown when CRLs are required")
    func revocationPolicy() throws {
        let onlyIntermediate = [pki.customs.intermediateCRL]
        let lenient = try detached(pki.carrierXRSA, verifier: customs(crls: onlyIntermediate))
        #expect(lenient.isValid, "\(lenient)")
        #expect(lenient.evidence.crls.map(\.path) == onlyIntermediate)
        let strict = try detached(pki.carrierXRSA, verifier: customs(crls: onlyIntermediate, policy: SignaturePolicy(revocation: .required)))
        #expect(strict.code == .revocationUnknown, "\(strict)")
        #expect(throws: SignatureError.self) {
            try CMSVerifier(anchors: TrustAnchors(agency: "CUSTOMS", certificateFiles: pki.customs.certificateFiles),
                            policy: SignaturePolicy(revocation: .required))
        }
    }

    @Test("keyUsage keyEncipherment only is sig.key-usage")
    func keyUsage() throws {
        let verdict = try detached(pki.keyEnciphermentOnly)
        #expect(verdict.code == .keyUsage, "\(verdict)")
        #expect(verdict.failure?.operatorReason.contains("keyEncipherment") == true)
    }

    @Test("a SHA-1 certificate, or a SHA-1 CMS digest, is sig.weak-algorithm")
    func sha1() throws {
        let certificate = try detached(pki.sha1Signed)
        #expect(certificate.code == .weakAlgorithm, "\(certificate)")
        #expect(certificate.failure?.operatorReason.contains("sha1WithRSAEncryption") == true)
        let digest = try detached(pki.carrierXRSA, digest: "sha1")
        #expect(digest.code == .weakAlgorithm, "\(digest)")
        #expect(digest.evidence.digestAlgorithm == "SHA1")
        let md5 = try detached(pki.carrierXRSA, digest: "md5")
        #expect(md5.code == .weakAlgorithm, "\(md5)")
    }

    @Test("garbage is sig.malformed, an empty or absent .p7s is sig.missing")
    func malformedAndMissing() throws {
        let verifier = try customs()
        let garbage = try dropDetached(payload, signature: Array("this is not a signature".utf8))
        #expect(try verifier.verifyDetached(contentAt: garbage, signer: carrierX, at: at).code == .malformed)
        let brokenPEM = try dropDetached(payload, signature: Array("-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n".utf8))
        #expect(try verifier.verifyDetached(contentAt: brokenPEM, signer: carrierX, at: at).code == .malformed)
        var truncated = try pki.signDetached(payload: payload, with: pki.carrierXRSA)
        truncated.removeLast(40)
        let cut = try dropDetached(payload, signature: truncated)
        #expect(try verifier.verifyDetached(contentAt: cut, signer: carrierX, at: at).code == .malformed)
        let empty = try dropDetached(payload, signature: [])
        #expect(try verifier.verifyDetached(contentAt: empty, signer: carrierX, at: at).code == .missing)
        let dir = try pki.scratchDirectory()
        let lone = dir.appendingPathComponent("LONE.edi").path
        try Data(payload).write(to: URL(fileURLWithPath: lone))
        let missing = try verifier.verifyDetached(contentAt: lone, signer: carrierX, at: at)
        #expect(missing.code == .missing)
        #expect(missing.evidence.signatureFile == lone + ".p7s")
    }

    // MARK: Enveloping

    @Test("an enveloping .p7m returns the exact content, only when valid", arguments: [TestPKI.Encoding.der, .pem])
    func enveloping(encoding: TestPKI.Encoding) throws {
        let verifier = try customs()
        let p7m = try pki.signEnveloping(payload: payload, with: pki.carrierXECDSA, encoding: encoding)
        let dir = try pki.scratchDirectory()
        let path = dir.appendingPathComponent("BATCH002.edi.p7m").path
        try Data(p7m).write(to: URL(fileURLWithPath: path))
        let result = try verifier.verifyEnveloping(fileAt: path, signer: carrierX, at: at)
        #expect(result.verdict.isValid, "\(result.verdict)")
        #expect(result.content == payload)
        #expect(result.verdict.evidence.kind == .enveloping)

        // Someone else's valid .p7m: refused, and the content is withheld.
        let other = try pki.signEnveloping(payload: payload, with: pki.carrierYRSA, encoding: encoding)
        let refused = try verifier.verifyEnveloping(other, signer: carrierX, at: at)
        #expect(refused.verdict.code == .signerMismatch)
        #expect(refused.content == nil)
    }

    @Test("a tampered .p7m is sig.bad-signature and yields no content")
    func envelopingTampered() throws {
        var p7m = try pki.signEnveloping(payload: payload, with: pki.carrierXRSA)
        let marker = Array("BL42+9".utf8)
        let offset = try #require((0...(p7m.count - marker.count)).first { Array(p7m[$0..<($0 + marker.count)]) == marker })
        p7m[offset + 2] = UInt8(ascii: "7")
        let result = try customs().verifyEnveloping(p7m, signer: carrierX, at: at)
        #expect(result.verdict.code == .badSignature, "\(result.verdict)")
        #expect(result.content == nil)
    }

    @Test("a .p7m where a .p7s belongs, and the reverse, is sig.wrong-file")
    func wrongKind() throws {
        let verifier = try customs()
        let p7m = try pki.signEnveloping(payload: payload, with: pki.carrierXRSA)
        let asDetached = try verifier.verifyDetached(content: payload, signature: p7m, signer: carrierX, at: at)
        #expect(asDetached.code == .wrongFile, "\(asDetached)")
        let p7s = try pki.signDetached(payload: payload, with: pki.carrierXRSA)
        let asEnveloping = try verifier.verifyEnveloping(p7s, signer: carrierX, at: at)
        #expect(asEnveloping.verdict.code == .wrongFile, "\(asEnveloping.verdict)")
        #expect(asEnveloping.content == nil)
    }

    @Test("partner-facing reasons never name the trust store")
    func partnerReasons() throws {
        for identity in [pki.wrongAgency, pki.revoked, pki.expired, pki.keyEnciphermentOnly, pki.sha1Signed, pki.carrierYRSA] {
            let verdict = try detached(identity)
            let failure = try #require(verdict.failure, "\(identity.name) should fail")
            for secret in ["CUSTOMS", "CIQ", "Root", "Signing CA", ".crl", ".pem", "openssl", "X509"] {
                #expect(!failure.partnerReason.contains(secret), "\(failure.code): \(failure.partnerReason)")
            }
            #expect(!failure.operatorReason.isEmpty)
        }
    }

    @Test("the certificate split keeps the signed parts: openssl verifies the stripped structure with the certificate given back")
    func certificateSplit() throws {
        let signature = try pki.signDetached(payload: payload, with: pki.carrierXRSA)
        let parts = try #require(CMSCertificateSplit.split(signature))
        #expect(parts.certificates.count == 1)
        let dir = try pki.scratchDirectory()
        let der = dir.appendingPathComponent("leaf.der").path
        try pki.runOpenSSL(["x509", "-in", pki.carrierXRSA.certificate, "-outform", "DER", "-out", der])
        #expect(parts.certificates[0] == [UInt8](try Data(contentsOf: URL(fileURLWithPath: der))))
        let content = dir.appendingPathComponent("content").path
        let stripped = dir.appendingPathComponent("stripped.p7s").path
        try Data(payload).write(to: URL(fileURLWithPath: content))
        try Data(parts.withoutCertificates).write(to: URL(fileURLWithPath: stripped))
        let bundle = dir.appendingPathComponent("customs-ca.pem")
        try Data((try String(contentsOfFile: pki.customs.rootCertificate, encoding: .utf8)
                  + String(contentsOfFile: pki.customs.intermediateCertificate, encoding: .utf8)).utf8).write(to: bundle)
        // -purpose any: this partner certificate's extendedKeyUsage is clientAuth only (pitfall P9).
        try pki.runOpenSSL(["cms", "-verify", "-binary", "-inform", "DER", "-in", stripped, "-content", content,
                            "-certfile", pki.carrierXRSA.certificate, "-CAfile", bundle.path, "-purpose", "any",
                            "-attime", "1780272000", "-out", "/dev/null"])
        #expect(CMSCertificateSplit.split(Array(signature.dropLast())) == nil)
        #expect(CMSCertificateSplit.split(signature + [0]) == nil)
        #expect(CMSCertificateSplit.split(Array("junk".utf8)) == nil)
    }

    // MARK: Trust anchors

    @Test("trust anchor loading errors have codes and name the file")
    func anchorErrors() throws {
        func code(_ certificates: [String], _ crls: [String] = []) -> (String, String)? {
            do {
                _ = try TrustAnchors(agency: "CUSTOMS", certificateFiles: certificates, crlFiles: crls)
                return nil
            } catch {
                return (error.code, error.path)
            }
        }
        let dir = try pki.scratchDirectory()
        let nowhere = dir.appendingPathComponent("absent.pem").path
        #expect(code([nowhere])?.0 == "trust.unreadable")
        #expect(code([nowhere])?.1 == nowhere)
        let junk = dir.appendingPathComponent("junk.pem").path
        try Data("junk".utf8).write(to: URL(fileURLWithPath: junk))
        #expect(code([junk])?.0 == "trust.no-certificate")
        #expect(code([pki.customs.rootCertificate, pki.carrierXRSA.certificate])?.0 == "trust.not-ca")
        #expect(code([pki.customs.rootCertificate, pki.carrierXRSA.certificate])?.1 == pki.carrierXRSA.certificate)
        #expect(code([pki.customs.intermediateCertificate])?.0 == "trust.no-root")
        #expect(code([pki.customs.rootCertificate, pki.ciq.intermediateCertificate])?.0 == "trust.orphan")
        #expect(code(pki.customs.certificateFiles, [pki.ciq.intermediateCRL])?.0 == "trust.crl-unknown-issuer")
        #expect(code(pki.customs.certificateFiles, [pki.ciq.intermediateCRL])?.1 == pki.ciq.intermediateCRL)
        #expect(code(pki.customs.certificateFiles, [junk])?.0 == "trust.crl-unreadable")
        let anchors = try TrustAnchors(agency: "CUSTOMS", certificateFiles: pki.customs.certificateFiles,
                                       crlFiles: pki.customs.allCRLFiles)
        #expect(anchors.roots.map(\.subject) == ["CN=CUSTOMS Root CA,O=China Customs,C=CN"])
        #expect(anchors.intermediates.count == 1 && anchors.crls.count == 3)
    }

    // MARK: Signing

    @Test("CMSSigner output verifies with openssl cms -verify and with CMSVerifier")
    func signer() throws {
        let signer = try CMSSigner(certificateFile: pki.gateway.certificate, privateKeyFile: pki.gateway.privateKey,
                                   chainFiles: [pki.customs.intermediateCertificate])
        let dir = try pki.scratchDirectory()
        let content = dir.appendingPathComponent("COREOR001.edi").path
        try Data(payload).write(to: URL(fileURLWithPath: content))
        let signature = try signer.signDetached(fileAt: content)
        #expect(try signer.signDetached(payload) != [])
        try Data(signature).write(to: URL(fileURLWithPath: content + ".p7s"))
        // Only the root as CAfile: the intermediate must come from inside the signature.
        try pki.runOpenSSL(["cms", "-verify", "-binary", "-content", content, "-in", content + ".p7s", "-inform", "DER",
                            "-CAfile", pki.customs.rootCertificate, "-attime", "1780272000", "-out", "/dev/null"])
        let verdict = try customs().verifyDetached(
            contentAt: content, signer: SignerBinding(partner: "SWG", fingerprints: [pki.gateway.sha256Fingerprint]), at: at)
        #expect(verdict.isValid, "\(verdict)")
        #expect(verdict.evidence.digestAlgorithm == "SHA256")
        #expect(signer.certificateEvidence.subject == "CN=SWG GATEWAY,O=Single Window,C=CN")
    }

    @Test("CMSSigner refuses a key file readable by group or others, and a key of another certificate")
    func signerKeyChecks() throws {
        let dir = try pki.scratchDirectory()
        let loose = dir.appendingPathComponent("gateway.key").path
        try FileManager.default.copyItem(atPath: pki.gateway.privateKey, toPath: loose)
        chmod(loose, 0o640)
        do {
            _ = try CMSSigner(certificateFile: pki.gateway.certificate, privateKeyFile: loose)
            Issue.record("a 0640 key was accepted")
        } catch {
            #expect(error.code == "signer.key-permissions")
            #expect(error.path == loose)
            #expect(error.message.contains("640"))
            #expect(!error.description.contains("PRIVATE KEY"))
        }
        do {
            _ = try CMSSigner(certificateFile: pki.gateway.certificate, privateKeyFile: pki.carrierXRSA.privateKey)
            Issue.record("a mismatched key was accepted")
        } catch {
            #expect(error.code == "signer.key-mismatch")
        }
    }
}
