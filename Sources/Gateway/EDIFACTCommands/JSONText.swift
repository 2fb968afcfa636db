/// Minimal JSON writing for streamed output (JSON Lines), where a Codable round trip per line would cost too much.
public enum JSONText {
    /// Appends `s` as a JSON string literal (UTF-8, quotes, backslashes and control characters escaped).
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // The usual value needs no escape: copied whole. Native strings are contiguous UTF-8, scanned and copied
        // through a pointer (iterating `utf8` was most of the library JSON's time).
        let copied: Bool? = s.utf8.withContiguousStorageIfAvailable { bytes in
            for b in bytes where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == 0x7F { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends a decimal integer.
    public static func appendInt(_ n: Int, to out: inout [UInt8]) {
        // Digits written straight into `out` (`String(n).utf8` made a string per number: the library's JSON has
        // several a goods item and a routing decision one a goods item).
        if n < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = n.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[start...].reverse()
    }

    /// Re-indents compact JSON (as `JSONEncoder` writes it without `.prettyPrinted`) with two spaces,
    /// `"key": value`, and `[]`/`{}` for empty containers: the same text on every platform, unlike
    /// Foundation's pretty printer, so golden files and diffs stay stable.
    public static func prettyPrinted(_ compact: some Sequence<UInt8>) -> [UInt8] {
        let input = Array(compact)
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 2)
        var depth = 0
        var inString = false, escaped = false
        func newline() {
            out.append(0x0A)
            out += repeatElement(UInt8(ascii: " "), count: depth * 2)
        }
        var i = 0
        while i < input.count {
            let b = input[i]
            defer { i += 1 }
            if inString {
                out.append(b)
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                inString = true
                out.append(b)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                out.append(b)
                let close = b == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if i + 1 < input.count && input[i + 1] == close {
                    out.append(close)
                    i += 1
                } else {
                    depth += 1
                    newline()
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                newline()
                out.append(b)
            case UInt8(ascii: ","):
                out.append(b)
                newline()
            case UInt8(ascii: ":"):
                out += [b, UInt8(ascii: " ")]
            case 0x20, 0x0A, 0x0D, 0x09:
                break
            default:
                out.append(b)
            }
        }
        out.append(0x0A)
        return out
    }
}
