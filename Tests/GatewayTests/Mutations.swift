import SplitMix

/// `count` hostile variants of valid inputs (cycling through `seeds`): each with 1 to 8 random edits (a byte
/// replaced by a delimiter, digit, letter or control byte, removed, inserted, or replaced by any byte),
/// reproducible from `state`. Shared by the mappers' robustness tests.
func mutated(_ seeds: [[UInt8]], count: Int, state: UInt64) -> [[UInt8]] {
    var rng = SplitMix64(state: state)
    let interesting: [UInt8] = Array("+:'?*.,-0123456789 AZ\n".utf8) + [0x00, 0xFF, 0xC3, 0x1D]
    return (0..<count).map { i in
        var bytes = seeds[i % seeds.count]
        for _ in 0..<rng.int(1...8) {
            let at = rng.int(0...(bytes.count - 1))
            switch rng.int(0...3) {
            case 0: bytes[at] = rng.pick(interesting)
            case 1: bytes.remove(at: at)
            case 2: bytes.insert(rng.pick(interesting), at: at)
            default: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            if bytes.isEmpty { break }
        }
        return bytes
    }
}
