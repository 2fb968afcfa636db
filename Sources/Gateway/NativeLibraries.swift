import CArchive
import CLibSSH
import CLibXML2
import COpenSSL
import CXMLSec

/// Versions of the C libraries the gateway runs against, as each library reports them at run time.
///
/// This is also the smoke test that every C module imports and links: `current()` calls into each
/// library, so a missing or mislinked library fails at build or load time rather than mid-batch.
public struct NativeLibraryVersions: Sendable, Codable, Equatable {
    /// libssh, as `ssh_version(0)` reports it (for example "0.10.6/openssl/zlib").
    public var libssh: String
    /// libarchive, as `archive_version_string()` reports it (for example "libarchive 3.6.2").
    public var libarchive: String
    /// libxml2 as a dotted version (for example "2.9.14"), derived from the runtime `xmlParserVersion`.
    public var libxml2: String
    /// OpenSSL, as `OpenSSL_version(OPENSSL_VERSION)` reports it (for example "OpenSSL 3.0.19 ...").
    public var openssl: String
    /// xmlsec1 (OpenSSL backend) version, for example "1.2.37".
    public var xmlsec: String

    /// Creates a value from explicit version strings (tests, stored run metadata).
    public init(libssh: String, libarchive: String, libxml2: String, openssl: String, xmlsec: String) {
        self.libssh = libssh
        self.libarchive = libarchive
        self.libxml2 = libxml2
        self.openssl = openssl
        self.xmlsec = xmlsec
    }

    /// Asks each linked C library for its version.
    public static func current() -> NativeLibraryVersions {
        NativeLibraryVersions(
            libssh: decode(ssh_version(0)),
            libarchive: decode(archive_version_string()),
            libxml2: libxml2Version(),
            openssl: decode(OpenSSL_version(OPENSSL_VERSION)),
            xmlsec: xmlsecVersion()
        )
    }

    /// Decodes a library-owned NUL-terminated string; the libraries return static storage, never freed.
    private static func decode(_ cString: UnsafePointer<CChar>?) -> String {
        guard let cString else { return "" }
        return String(cString: cString)
    }

    /// libxml2 reports its runtime version as digits ("20914" = 2.9.14, maybe with a suffix);
    /// dotted form keeps it comparable with the others. Falls back to the compiled-against version.
    private static func libxml2Version() -> String {
        let raw = decode(swg_xmlParserVersion())
        guard let number = Int(raw.prefix(while: \.isNumber)), number > 0 else {
            return LIBXML_DOTTED_VERSION
        }
        return "\(number / 10000).\(number / 100 % 100).\(number % 100)"
    }

    /// xmlsec1 1.2 has no runtime version string, so the header's version is reported only after the
    /// loaded library confirms it is ABI-compatible with that header (which also proves it links).
    private static func xmlsecVersion() -> String {
        let compatible = xmlSecCheckVersionExt(
            XMLSEC_VERSION_MAJOR, XMLSEC_VERSION_MINOR, XMLSEC_VERSION_SUBMINOR,
            xmlSecCheckVersionABICompatible
        )
        return compatible == 1 ? XMLSEC_VERSION : "\(XMLSEC_VERSION) (ABI-incompatible runtime)"
    }
}
