import COpenSSL

// The one file where OpenSSL's digest API (EVP_MD_CTX) is touched: every other file sees only
// `SHA256Hasher` and `SHA256Digest`, so no C type leaks into a signature elsewhere.

/// A SHA-256 digest: the content address of raw bytes and the identity of a batch in the ledger.
public struct SHA256Digest: Sendable, Hashable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Wraps 32 digest bytes; nil for any other length, so a truncated hash never becomes an address.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses 64 hexadecimal digits (either case); nil otherwise, so a path can never be built from junk.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        self.bytes = out
    }

    /// Lower-case hexadecimal, the form stored in the ledger and used in object paths.
    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var chars = [UInt8]()
        chars.reserveCapacity(64)
        for byte in bytes {
            chars.append(digits[Int(byte >> 4)])
            chars.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: chars, as: UTF8.self)
    }

    /// The hexadecimal form, so logs and test failures show the familiar notation.
    public var description: String { hex }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Hashes a whole buffer in one go; for data already in memory (tests, receipts).
    public static func hash(_ bytes: some Sequence<UInt8>) throws(DigestError) -> SHA256Digest {
        let hasher = try SHA256Hasher()
        let array = Array(bytes)
        let result = array.withUnsafeBytes { buffer in Result { () throws(DigestError) in try hasher.update(buffer) } }
        try result.get()
        return try hasher.finalize()
    }
}

/// A failure inside OpenSSL's digest code, with the OpenSSL error queue drained at the failing call.
public struct DigestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The EVP call that failed, e.g. "EVP_DigestUpdate".
    public var operation: String
    /// OpenSSL's own error strings, oldest first; empty when the queue held nothing.
    public var openSSLErrors: [String]

    /// "sha256: EVP_DigestUpdate failed: ...".
    public var description: String {
        "sha256: \(operation) failed" + (openSSLErrors.isEmpty ? "" : ": " + openSSLErrors.joined(separator: "; "))
    }

    /// Captures the error queue now, at the failing call, so later OpenSSL calls cannot overwrite it.
    static func capture(_ operation: String) -> DigestError {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return DigestError(operation: operation, openSSLErrors: messages)
    }
}

/// An incremental SHA-256 over OpenSSL EVP, so a file of any size is hashed while it streams past.
///
/// A class because it owns the `EVP_MD_CTX`, freed in `deinit`; not Sendable, one per stream.
public final class SHA256Hasher {
    private let context: OpaquePointer
    private var finished = false

    /// Starts a fresh digest; throws only if OpenSSL cannot allocate or initialise the context.
    public init() throws(DigestError) {
        guard let context = EVP_MD_CTX_new() else { throw DigestError.capture("EVP_MD_CTX_new") }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            EVP_MD_CTX_free(context)
            throw DigestError.capture("EVP_DigestInit_ex")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds the next chunk of the stream.
    public func update(_ chunk: UnsafeRawBufferPointer) throws(DigestError) {
        precondition(!finished, "SHA256Hasher used after finalize()")
        guard chunk.count > 0 else { return }
        guard EVP_DigestUpdate(context, chunk.baseAddress, chunk.count) == 1 else {
            throw DigestError.capture("EVP_DigestUpdate")
        }
    }

    /// Ends the stream and returns the digest; the hasher cannot be fed afterwards.
    public func finalize() throws(DigestError) -> SHA256Digest {
        precondition(!finished, "SHA256Hasher finalized twice")
        finished = true
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &out, &length) == 1, length == 32 else {
            throw DigestError.capture("EVP_DigestFinal_ex")
        }
        return SHA256Digest(bytes: Array(out.prefix(32)))!
    }
}
