import Foundation
import Testing

@testable import Gateway

/// Every C module imports, links and answers at run time with a plausible version.
@Suite("Native libraries")
struct NativeLibrariesTests {
    let versions = NativeLibraryVersions.current()

    @Test("libssh reports a 0.x version")
    func libssh() {
        #expect(!versions.libssh.isEmpty)
        #expect(versions.libssh.hasPrefix("0."))
    }

    @Test("libarchive reports a 3.x version")
    func libarchive() {
        #expect(!versions.libarchive.isEmpty)
        #expect(versions.libarchive.hasPrefix("libarchive 3."))
    }

    @Test("libxml2 reports a dotted 2.x version")
    func libxml2() {
        #expect(versions.libxml2.hasPrefix("2."))
        #expect(versions.libxml2.split(separator: ".").count == 3)
    }

    @Test("OpenSSL reports a 3.x version")
    func openssl() {
        #expect(versions.openssl.hasPrefix("OpenSSL 3"))
    }

    @Test("xmlsec reports a 1.x version compatible with its headers")
    func xmlsec() {
        #expect(versions.xmlsec.hasPrefix("1."))
        #expect(!versions.xmlsec.contains("incompatible"))
    }

    @Test("versions are stable across calls and round-trip through Codable")
    func stableAndCodable() throws {
        #expect(NativeLibraryVersions.current() == versions)
        let data = try JSONEncoder().encode(versions)
        #expect(try JSONDecoder().decode(NativeLibraryVersions.self, from: data) == versions)
    }

    @Test("the gateway version is semantic")
    func gatewayVersion() {
        #expect(GatewayInfo.version.split(separator: ".").count == 3)
    }
}
