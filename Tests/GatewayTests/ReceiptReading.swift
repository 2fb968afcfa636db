// How a test reads the receipts the gateway writes, as a partner's EDI software would: segments split at
// unescaped terminators, release characters resolved. A substring search over the whole file also matches the
// interchange's random control reference (a reference "…CRL…" once failed a check that no FTX names the CRL).

/// The EDIFACT segments of a receipt (no UNA), each as elements of components, release characters resolved.
func receiptSegments(_ text: String) -> [[[String]]] {
    var result: [[[String]]] = []
    var segment: [[String]] = [[""]]
    var started = false, escaped = false
    for ch in text {
        if escaped {
            segment[segment.count - 1][segment[segment.count - 1].count - 1].append(ch)
            escaped = false
            continue
        }
        switch ch {
        case "?": escaped = true; started = true
        case "+": segment.append([""]); started = true
        case ":": segment[segment.count - 1].append(""); started = true
        case "'": result.append(segment); segment = [[""]]; started = false
        case "\n" where !started, "\r" where !started: continue
        default:
            segment[segment.count - 1][segment[segment.count - 1].count - 1].append(ch)
            started = true
        }
    }
    return result
}

/// What a partner reads in an APERAK: error codes (ERC), free texts (FTX 4440 lines joined), RFF+ACE names.
struct AperakView {
    var erc: [String] = []
    var ftx: [String] = []
    var ace: [String] = []
    var bgmStatus: String?

    init(_ text: String) {
        for s in receiptSegments(text) {
            switch s.first?.first {
            case "ERC": erc.append(s.count > 1 ? s[1][0] : "")
            case "FTX": ftx.append(s.count > 4 ? s[4].joined() : "")
            case "RFF" where s.count > 1 && s[1].first == "ACE": ace.append(s[1].count > 1 ? s[1][1] : "")
            case "BGM": bgmStatus = s.count > 3 ? s[3][0] : nil
            default: break
            }
        }
    }
}
