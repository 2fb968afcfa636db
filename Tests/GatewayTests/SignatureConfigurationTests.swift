import Foundation
import Testing

@testable import Gateway

// The signature side of the configuration (issue 4): [partner.trust] on agencies, [partner.signature] on the
// partners that sign, [gateway] signing_key / signing_certificate / certificate_warning_days.

/// An agency with its CA and a carrier whose files must be signed by a certificate of that CA.
private let signed = """
    [gateway]
    sender_id = "SWGATEWAY"
    signing_key = "keys/gateway.key"
    signing_certificate = "/etc/swg/gateway.pem"
    certificate_warning_days = 45

    [[partner]]
    id = "CUSTOMS"
    role = "agency"
    drop = "partners/CUSTOMS/drop"
    pickup = "partners/CUSTOMS/pickup"
    [partner.trust]
    certificates = ["trust/CUSTOMS/root.pem", "trust/CUSTOMS/intermediate.pem"]
    crls = ["trust/CUSTOMS/intermediate.crl"]

    [[partner]]
    id = "CARRIERX"
    role = "carrier"
    drop = "partners/CARRIERX/drop"
    pickup = "partners/CARRIERX/pickup"
    [partner.signature]
    required = true
    trust = ["CUSTOMS"]
    subjects = ["CN=CARRIERX,O=Carrier X"]
    serials = ["1A:2B"]
    formats = ["cms-detached", "xmldsig"]
    algorithms = ["SHA256", "sha512"]
    sign_outbound = true

    """

private func mistakes(_ text: String) -> [ConfigurationError] {
    do {
        _ = try ConfigurationLoader.parse(text, configurationDirectory: "/srv/spool")
        return []
    } catch {
        return error.errors
    }
}

@Suite("Configuration: trust anchors and signature policies")
struct SignatureConfigurationTests {
    @Test("an agency's CA, a partner's policy and the gateway's signing identity load, paths resolved")
    func loads() throws {
        let c = try ConfigurationLoader.parse(signed, configurationDirectory: "/srv/spool")
        #expect(c.signing == SigningIdentity(key: "/srv/spool/keys/gateway.key", certificate: "/etc/swg/gateway.pem"))
        #expect(c.certificateWarningDays == 45)
        let customs = try #require(c.partner(id: "CUSTOMS"))
        #expect(customs.trust == TrustConfiguration(
            certificates: ["/srv/spool/trust/CUSTOMS/root.pem", "/srv/spool/trust/CUSTOMS/intermediate.pem"],
            crls: ["/srv/spool/trust/CUSTOMS/intermediate.crl"], requireCRL: true))
        #expect(customs.signature == PartnerSignaturePolicy())
        let carrier = try #require(c.partner(id: "CARRIERX"))
        #expect(carrier.trust == nil)
        #expect(carrier.signature == PartnerSignaturePolicy(
            required: true, trust: ["CUSTOMS"], subjects: ["CN=CARRIERX,O=Carrier X"], serials: ["1a2b"],
            formats: [.cmsDetached, .xmldsig], algorithms: ["sha256", "sha512"], signOutbound: true))
        // Without any of it: nothing required, nothing signed, a 30-day warning window.
        let plain = try ConfigurationLoader.parse(
            "[gateway]\nsender_id = \"G\"\n[[partner]]\nid = \"P\"\nrole = \"carrier\"\ndrop = \"a\"\npickup = \"b\"\n",
            configurationDirectory: "/srv/spool")
        #expect(plain.signing == nil && plain.certificateWarningDays == 30)
        #expect(plain.partners.first?.signature.required == false)
    }

    @Test("each mistake names its key", arguments: [
        // (replace this, with that, key, start of message)
        ("role = \"agency\"", "role = \"terminal\"", "partner[1].trust",
         "only an agency has its own CA"),
        ("crls = [\"trust/CUSTOMS/intermediate.crl\"]\n", "", "partner[1].trust.crls",
         "is missing while require_crl is true"),
        ("certificates = [\"trust/CUSTOMS/root.pem\", \"trust/CUSTOMS/intermediate.pem\"]", "certificates = []",
         "partner[1].trust.certificates", "is empty"),
        ("trust = [\"CUSTOMS\"]", "trust = [\"CUSTOM\"]", "partner[2].signature.trust[1]",
         "'CUSTOM' is not a partner id"),
        ("trust = [\"CUSTOMS\"]", "trust = [\"CARRIERX\"]", "partner[2].signature.trust[1]",
         "partner 'CARRIERX' has no [partner.trust] table"),
        ("trust = [\"CUSTOMS\"]\n", "", "partner[2].signature.trust",
         "is missing: a required signature must chain to an agency's CA"),
        ("subjects = [\"CN=CARRIERX,O=Carrier X\"]\nserials = [\"1A:2B\"]\n", "", "partner[2].signature.subjects",
         "is missing: name the partner's certificate subjects"),
        ("serials = [\"1A:2B\"]", "serials = [\"XYZ\"]", "partner[2].signature.serials[1]",
         "'XYZ' is not a hexadecimal serial number"),
        ("formats = [\"cms-detached\", \"xmldsig\"]", "formats = [\"pgp\"]", "partner[2].signature.formats[1]",
         "'pgp' is not a signature format (cms-detached, cms-enveloping, xmldsig)"),
        ("algorithms = [\"SHA256\", \"sha512\"]", "algorithms = [\"sha256\", \"sha1\"]", "partner[2].signature.algorithms[2]",
         "sha1 is broken for signatures and never accepted"),
        ("algorithms = [\"SHA256\", \"sha512\"]", "algorithms = [\"md5\"]", "partner[2].signature.algorithms[1]",
         "md5 is broken for signatures"),
        ("signing_key = \"keys/gateway.key\"\n", "", "gateway.signing_key",
         "is missing: signing_key and signing_certificate go together"),
        ("required = true", "required = true\nrequire = false", "partner[2].signature.require",
         "unknown key 'require'; did you mean 'required'?"),
    ])
    func mistake(replacing: String, with: String, key: String, message: String) throws {
        try #require(signed.contains(replacing))
        let found = mistakes(signed.replacingOccurrences(of: replacing, with: with))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.key == key, "\(found)")
        #expect(found.first?.message.hasPrefix(message) == true, "\(found)")
        #expect(found.first?.line != nil, "every mistake has its line: \(found)")
    }

    @Test("sign_outbound without the gateway's signing identity is a mistake")
    func signOutboundNeedsIdentity() {
        let text = signed.replacingOccurrences(of: "signing_key = \"keys/gateway.key\"\n", with: "")
            .replacingOccurrences(of: "signing_certificate = \"/etc/swg/gateway.pem\"\n", with: "")
        let found = mistakes(text)
        #expect(found.map(\.key) == ["partner[2].signature.sign_outbound"], "\(found)")
        #expect(found.first?.message == "needs [gateway] signing_key and signing_certificate")
    }
}
