import Foundation
import Testing
import TestSupport

@testable import Gateway

// The plain-layout check (CMSPlainSignedData + PlainSignatureCheck) against OpenSSL's CMS layer, which
// it must agree with everywhere: same verdict, same evidence, on real signatures made by `openssl cms`
// with many options, on thousands of mutated signatures, and on signatures re-signed after the signed
// attributes were bent in the ways a second parser could read differently from OpenSSL.

private let payload: [UInt8] = Array((0..<5_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
private let carrierX = SignerBinding(partner: "CARRIERX", subjects: ["CN=CARRIERX,O=Carrier X,C=CN"])

@Suite("CMS plain-layout check")
struct CMSPlainPathTests {
    let pki: TestPKI
    let at = TestPKI.validationTime
    let plain: CMSVerifier
    let openSSL: CMSVerifier

    init() throws {
        pki = try TestPKI.get()
        let anchors = try TrustAnchors(agency: "CUSTOMS", certificateFiles: pki.customs.certificateFiles, crlFiles: pki.customs.crlFiles)
        plain = try CMSVerifier(anchors: anchors)
        openSSL = try CMSVerifier(anchors: anchors, openSSLOnly: true)
    }

    /// Both verifiers over the same detached signature; they must agree entirely.
    func both(_ signature: [UInt8], content: [UInt8] = payload) throws -> (plain: SignatureVerdict, openSSL: SignatureVerdict) {
        (try plain.verifyDetached(content: content, signature: signature, signer: carrierX, at: at),
         try openSSL.verifyDetached(content: content, signature: signature, signer: carrierX, at: at))
    }

    static let variants: [(label: String, digest: String, options: [String], plainLayout: Bool)] = [
        ("default", "sha256", [], true),
        ("no S/MIME capabilities", "sha256", ["-nosmimecap"], true),
        ("SHA-384", "sha384", [], true),
        ("SHA-512", "sha512", [], true),
        ("SHA-1 digest", "sha1", [], false),
        ("no signed attributes", "sha256", ["-noattr"], false),
        ("CAdES signing-certificate attribute", "sha256", ["-cades"], false),
        ("no certificates carried", "sha256", ["-nocerts"], false),
    ]

    @Test("openssl cms signatures with every option: the same verdict and evidence both ways; the plain layout is recognised")
    func variants() throws {
        let identities = [pki.carrierXRSA, pki.carrierXECDSA, pki.carrierYRSA, pki.revoked, pki.expired, pki.wrongAgency,
                          pki.keyEnciphermentOnly, pki.sha1Signed]
        var recognised = 0
        for identity in identities {
            for variant in Self.variants {
                for encoding in [TestPKI.Encoding.der, .pem] {
                    let signature = try pki.sign(payload: payload, with: identity, encoding: encoding, digest: variant.digest,
                                                 options: variant.options)
                    let (a, b) = try both(signature)
                    #expect(a == b, "\(identity.name), \(variant.label), \(encoding)")
                    let der = encoding == .der ? signature : try #require(CMSSignedData.pemBody(signature))
                    // Recognised: the layout is read and the signer's certificate is among those carried.
                    let parsed = CMSPlainSignedData.parse(der)?.signerIndex() != nil
                    #expect(parsed == variant.plainLayout, "\(identity.name), \(variant.label)")
                    if parsed { recognised += 1 }
                }
            }
        }
        #expect(recognised == identities.count * 4 * 2)
        // The cases the gateway accepts are accepted both ways (the test would pass vacuously otherwise).
        let good = try both(pki.signDetached(payload: payload, with: pki.carrierXECDSA))
        #expect(good.plain.isValid && good.openSSL.isValid)
        // A chain carried in the signature (-certfile) is used the same way.
        let chained = try pki.sign(payload: payload, with: pki.carrierXRSA,
                                   options: ["-certfile", pki.customs.intermediateCertificate])
        let (a, b) = try both(chained)
        #expect(a.isValid && a == b)
        #expect(CMSPlainSignedData.parse(chained)?.certificates.count == 2)
    }

    @Test("enveloping .p7m: the same verdict, evidence and content both ways")
    func enveloping() throws {
        for identity in [pki.carrierXRSA, pki.carrierXECDSA, pki.carrierYRSA] {
            let signature = try pki.signEnveloping(payload: payload, with: identity)
            #expect(CMSPlainSignedData.parse(signature)?.content != nil)
            let a = try plain.verifyEnveloping(signature, signer: carrierX, at: at)
            let b = try openSSL.verifyEnveloping(signature, signer: carrierX, at: at)
            #expect(a.verdict == b.verdict && a.content == b.content, "\(identity.name)")
        }
        let good = try plain.verifyEnveloping(pki.signEnveloping(payload: payload, with: pki.carrierXRSA), signer: carrierX, at: at)
        #expect(good.content == payload)
    }

    @Test("3 000 mutated signatures (bit flips, bytes set, cut, inserted, deleted): never accepted by one and refused by the other")
    func mutations() throws {
        var random = SplitMix64(state: 0x5161_2026)
        let originals = [try pki.signDetached(payload: payload, with: pki.carrierXRSA),
                         try pki.signDetached(payload: payload, with: pki.carrierXECDSA)]
        for original in originals {
            let (a, b) = try both(original)
            #expect(a.isValid && b.isValid)
        }
        var accepted = 0
        var disagreements: [String] = []
        for round in 0..<3_000 {
            var bytes = originals[round % 2]
            let offset = Int(random.next() % UInt64(bytes.count))
            switch random.next() % 5 {
            case 0: bytes[offset] ^= UInt8(1 << (random.next() % 8))
            case 1: bytes[offset] = UInt8(truncatingIfNeeded: random.next())
            case 2: bytes.removeSubrange(offset...)
            case 3: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: offset)
            default: bytes.remove(at: offset)
            }
            let (a, b) = try both(bytes)
            if a.isValid { accepted += 1 }
            if a != b { disagreements.append("round \(round), offset \(offset): plain \(a.code.map(\.rawValue) ?? "valid"), openssl \(b.code.map(\.rawValue) ?? "valid")") }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(5))")
        // Bytes nobody signs (digestAlgorithms, the NULL after an algorithm) may mutate harmlessly;
        // most mutations break something.
        #expect(accepted < 1_000, "\(accepted) mutations accepted")
    }

    // MARK: Re-signed after bending the signed attributes

    /// `signature` with its signed attributes replaced by `transform(attributes)` and signed again
    /// over the new bytes with `identity`'s key (`openssl dgst -sign`): a signature made by someone who
    /// encodes the attributes as they like.
    func resigned(_ signature: [UInt8], with identity: TestPKI.Identity, _ transform: ([[UInt8]]) -> [[UInt8]]) throws -> [UInt8] {
        let signerPath = try signerInfoPath(signature)
        let signerInfo = try #require(element(signature, path: signerPath))
        let fields = try #require(DERReader.children(signature, of: signerInfo.contents))
        let attributes = try #require(DERReader.children(signature, of: fields[3].contents)).map { Array(signature[$0.range]) }
        let body = transform(attributes).flatMap { $0 }
        let signed = [0x31] + DERReader.length(body.count) + body
        let work = try pki.scratchDirectory()
        let input = work.appendingPathComponent("attributes.der")
        try Data(signed).write(to: input)
        let output = work.appendingPathComponent("signature.bin")
        try pki.runOpenSSL(["dgst", "-sha256", "-sign", identity.privateKey, "-out", output.path, input.path])
        let value = [UInt8](try Data(contentsOf: output))
        var result = replacing(signature, path: signerPath + [3], with: [0xA0] + DERReader.length(body.count) + body)
        result = replacing(result, path: signerPath + [5], with: [0x04] + DERReader.length(value.count) + value)
        return result
    }

    /// Child indices from the ContentInfo down to the (first) SignerInfo.
    func signerInfoPath(_ der: [UInt8]) throws -> [Int] {
        let signedData = try #require(element(der, path: [1, 0]))
        let fields = try #require(DERReader.children(der, of: signedData.contents))
        return [1, 0, fields.count - 1, 0]
    }

    func element(_ der: [UInt8], path: [Int]) -> DERReader.Element? {
        var current = DERReader.element(der, at: 0, limit: der.count)
        for index in path {
            guard let parent = current, let children = DERReader.children(der, of: parent.contents), index < children.count
            else { return nil }
            current = children[index]
        }
        return current
    }

    /// `der` with the element at `path` replaced by `tlv`, every enclosing length re-encoded.
    func replacing(_ der: [UInt8], path: [Int], with tlv: [UInt8]) -> [UInt8] {
        func rebuild(_ element: DERReader.Element, _ path: ArraySlice<Int>) -> [UInt8] {
            guard let index = path.first, let children = DERReader.children(der, of: element.contents) else { return tlv }
            var body: [UInt8] = []
            for (position, child) in children.enumerated() {
                body += position == index ? rebuild(child, path.dropFirst()) : Array(der[child.range])
            }
            return [der[element.start]] + DERReader.length(body.count) + body
        }
        return rebuild(DERReader.element(der, at: 0, limit: der.count)!, path[...])
    }

    @Test("re-signed as-is: valid both ways through the plain layout (the surgery itself is sound)")
    func resignedUnchanged() throws {
        let signature = try resigned(pki.signDetached(payload: payload, with: pki.carrierXRSA), with: pki.carrierXRSA) { $0 }
        #expect(CMSPlainSignedData.parse(signature) != nil)
        let (a, b) = try both(signature)
        #expect(a.isValid && a == b, "\(a)")
    }

    @Test("attributes in another order, re-signed over that order: both accept (OpenSSL verifies the order received)")
    func reordered() throws {
        let signature = try resigned(pki.signDetached(payload: payload, with: pki.carrierXRSA), with: pki.carrierXRSA) { $0.reversed() }
        #expect(CMSPlainSignedData.parse(signature) != nil)
        let (a, b) = try both(signature)
        #expect(a.isValid && a == b, "plain \(a), openssl \(b)")
    }

    @Test("an attribute with a longer-than-needed length, re-signed over those bytes: refused both ways")
    func nonMinimalLength() throws {
        let signature = try resigned(pki.signDetached(payload: payload, with: pki.carrierXRSA), with: pki.carrierXRSA) { attributes in
            var bent = attributes
            let first = bent[0]  // 30 LL ...: give it the long form 30 81 LL
            bent[0] = [first[0], 0x81] + first[1...]
            return bent
        }
        #expect(CMSPlainSignedData.parse(signature) == nil)
        let (a, b) = try both(signature)
        #expect(!a.isValid && a == b, "plain \(a), openssl \(b)")
    }

    @Test("a second messageDigest attribute with another digest, re-signed: refused both ways")
    func twoMessageDigests() throws {
        let original = try pki.signDetached(payload: payload, with: pki.carrierXRSA)
        let signature = try resigned(original, with: pki.carrierXRSA) { attributes in
            // messageDigest is 1.2.840.113549.1.9.4: OID contents end in 09 04.
            guard let digest = attributes.first(where: { $0.count > 14 && $0[11] == 0x09 && $0[12] == 0x04 }) else { return attributes }
            var other = digest
            other[other.count - 1] ^= 0xFF
            return attributes + [other]
        }
        #expect(CMSPlainSignedData.parse(signature) == nil)
        let (a, b) = try both(signature)
        #expect(!a.isValid && a == b, "plain \(a), openssl \(b)")
    }

    @Test("an extra, unknown signed attribute or a missing contentType, re-signed: OpenSSL decides, the same both ways")
    func unknownOrMissingAttributes() throws {
        let original = try pki.signDetached(payload: payload, with: pki.carrierXRSA)
        // 1.3.6.1.4.1.99999.1 with a UTF8String value.
        let unknown: [UInt8] = [0x30, 0x13, 0x06, 0x09, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8D, 0x1F, 0x01,
                                0x31, 0x06, 0x0C, 0x04, 0x74, 0x65, 0x73, 0x74]
        let extra = try resigned(original, with: pki.carrierXRSA) { $0 + [unknown] }
        let noContentType = try resigned(original, with: pki.carrierXRSA) { Array($0.dropFirst()) }
        for signature in [extra, noContentType] {
            #expect(CMSPlainSignedData.parse(signature) == nil)
            let (a, b) = try both(signature)
            #expect(a == b, "plain \(a), openssl \(b)")
        }
    }
}
