import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `gateway version` prints: the gateway version and the C libraries it runs against.
public struct VersionReport: Codable, Sendable, Equatable {
    /// `GatewayInfo.version`.
    public var gateway: String
    /// Each linked C library's own version string.
    public var libraries: NativeLibraryVersions
    /// The process's malloc: `mimalloc 2.0.9` in the `gateway` executable (linked for speed, see Package.swift),
    /// `glibc` in a process built without it.
    public var allocator: String

    public init(gateway: String, libraries: NativeLibraryVersions, allocator: String) {
        self.gateway = gateway
        self.libraries = libraries
        self.allocator = allocator
    }

    /// The versions of this build and of the libraries loaded now.
    public static func current() -> VersionReport {
        VersionReport(gateway: GatewayInfo.version, libraries: .current(), allocator: currentAllocator())
    }

    /// mimalloc when its `mi_version` is in the process (it then serves every malloc: it is linked before libc),
    /// else glibc's. Looked up rather than called, so that only the executable links mimalloc.
    public static func currentAllocator() -> String {
        guard let symbol = dlsym(nil, "mi_version") else { return "glibc" }
        let version = unsafeBitCast(symbol, to: (@convention(c) () -> Int32).self)()
        return "mimalloc \(version / 100).\(version / 10 % 10).\(version % 10)"
    }

    /// One line per component: `gateway 0.1.0`, then `libssh ...` and the others.
    public var text: String {
        let rows = [
            ("gateway", gateway), ("libssh", libraries.libssh), ("libarchive", libraries.libarchive),
            ("libxml2", libraries.libxml2), ("openssl", libraries.openssl), ("xmlsec", libraries.xmlsec),
            ("allocator", allocator),
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
