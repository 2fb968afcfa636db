import Foundation

/// What `gateway version` prints: the gateway version and the C libraries it runs against.
public struct VersionReport: Codable, Sendable, Equatable {
    /// `GatewayInfo.version`.
    public var gateway: String
    /// Each linked C library's own version string.
    public var libraries: NativeLibraryVersions

    /// The versions of this build and of the libraries loaded now.
    public static func current() -> VersionReport {
        VersionReport(gateway: GatewayInfo.version, libraries: .current())
    }

    /// One line per component: `gateway 0.1.0`, then `libssh ...` and the others.
    public var text: String {
        let rows = [
            ("gateway", gateway), ("libssh", libraries.libssh), ("libarchive", libraries.libarchive),
            ("libxml2", libraries.libxml2), ("openssl", libraries.openssl), ("xmlsec", libraries.xmlsec),
        ]
        return rows.map { name, value in name.padding(toLength: 12, withPad: " ", startingAt: 0) + value }.joined(separator: "\n") + "\n"
    }

    /// `{"gateway": ..., "libraries": {...}}`, pretty-printed with sorted keys.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: JSONText.prettyPrinted(data), as: UTF8.self)
    }
}
