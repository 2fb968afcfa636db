// A deterministic generator of real-shaped CUSCAR D95B manifests (the shape of edifact-syntax-and-messages.md §4.4).

import SplitMix

/// ISO 6346 container numbers (owner code, category U, serial, check digit).
enum ISO6346 {
    /// Letter values skip multiples of 11 (A=10, B=12, ... K=21, L=23, ... U=32, V=34, ...).
    static func value(_ c: UInt8) -> Int {
        if c >= 0x30 && c <= 0x39 { return Int(c - 0x30) }
        var v = 10
        var letter: UInt8 = 0x41
        while letter < c {
            v += 1
            if v % 11 == 0 { v += 1 }
            letter += 1
        }
        return v
    }

    /// The check digit of the first 10 characters (e.g. "MSCU123456" → 6).
    static func checkDigit(_ first10: String) -> Int {
        var sum = 0
        for (i, c) in first10.utf8.enumerated() { sum += value(c) << i }
        return sum % 11 % 10
    }

    /// A full 11-character container number.
    static func number(owner: String, serial: Int) -> String {
        var digits = String(serial)
        digits = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        let first10 = owner + digits
        return first10 + String(checkDigit(first10))
    }
}

/// Writes one interchange (UNA, UNB, many CUSCAR messages, UNZ) of about a target size, streaming.
struct CuscarGenerator {
    var rng: SplitMix64
    let seed: UInt64
    var segmentsInMessage = 0
    var totalSegments = 0

    init(seed: UInt64) {
        self.seed = seed
        rng = SplitMix64(state: seed)
    }

    static let carriers: [(code: String, owner: String, vessels: [(callSign: String, name: String)])] = [
        ("MSC", "MSCU", [("3FZO7", "MSC GULSUN"), ("3EXK9", "MSC OSCAR"), ("D5BL4", "MSC ZOE")]),
        ("MAEU", "MSKU", [("OYGR2", "MAERSK ESSEN"), ("OWJD2", "EMMA MAERSK")]),
        ("CMDU", "CMAU", [("FMJV", "CMA CGM JULES VERNE"), ("9HA5033", "CMA CGM MARCO POLO")]),
        ("HLCU", "HLXU", [("DDTZ2", "HAMBURG EXPRESS"), ("9V3311", "BERLIN EXPRESS")]),
        ("EGLV", "EGHU", [("H3RC", "EVER GIVEN"), ("9V7954", "EVER ACE")]),
        ("COSU", "CCLU", [("VRPE9", "COSCO SHIPPING UNIVERSE")]),
        ("ZIMU", "ZIMU", [("V7A4386", "ZIM KINGSTON")]),
    ]
    static let ports = ["CNSHA", "KEMBA", "NLRTM", "DEHAM", "SGSIN", "BEANR", "ESVLC", "FRLEH", "GBFXT", "TZDAR", "ZADUR", "CNNGB"]
    /// Party names in Latin-1 (UNOC), some needing the release character.
    static let parties = [
        "SHANGHAI EXPORTS LTD", "NAIROBI IMPORTS LTD", "MÜLLER & SÖHNE GMBH", "SOCIÉTÉ GÉNÉRALE D'IMPORT SARL",
        "ÅRHUS TRADING A/S", "JOSÉ NUÑEZ E HIJOS S.A.", "O'BRIEN LOGISTICS LTD", "KØBENHAVN FOODS APS",
        "ÇUKUROVA TEKSTIL A.S.", "MOMBASA FRESH+DRY LTD", "DAR ES SALAAM HARDWARE CO", "ZÜRICH PRÄZISIONSTEILE AG",
        "LÓPEZ Y GARCÍA, S.L.", "FRÈRES DUPONT: NÉGOCE", "GÖTEBORG MASKIN AB", "NINGBO LIGHT INDUSTRY CO?",
    ]
    /// Goods descriptions with separators in the text (released) and Latin-1 symbols.
    static let goods = [
        "COTTON T-SHIRTS, KNITTED", "MACHINE PARTS: BEARINGS 6204-2RS", "CHILDREN'S TOYS (PLASTIC)",
        "FROZEN FISH FILLETS -18°C", "CAFÉ VERDE EN GRANO, SACOS 60 KG", "TYRES 205/55 R16 + RIMS",
        "SPARE PARTS ?? SEE INVOICE", "SOLAR PANELS 450 W: MONO PERC", "CERAMIC TILES 60×60 CM", "ROASTED COFFEE 'ARABICA'",
        "ELECTRIC MOTORS 3~ 400 V", "PAPER ROLLS, KRAFT, 120 G/M²", "OLIVE OIL, EXTRA VIRGEN, 5 L", "WOMEN'S SHOES: LEATHER",
    ]
    static let hsCodes = ["610910", "847990", "848210", "950300", "030489", "090111", "401110", "854143", "690721", "090121", "850152"]
    static let packageTypes = ["CT", "PK", "BG", "PL", "CS", "DR", "BX"]
    static let sizeTypes = ["45G1", "22G1", "42G1", "45R1", "22R1", "L5G1"]

    /// Escapes the service characters of `:+.? '` with the release character.
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count + 4)
        for ch in s.unicodeScalars {
            if ch == "?" || ch == "+" || ch == ":" || ch == "'" { out.unicodeScalars.append("?") }
            out.unicodeScalars.append(ch)
        }
        return out
    }

    /// Latin-1 bytes of a segment (every character here is below U+0100), plus the terminator and a newline
    /// now and then, as real senders do.
    mutating func emit(_ segment: String, to sink: FileSink) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segment.utf8.count + 2)
        for s in segment.unicodeScalars {
            precondition(s.value < 0x100, "not Latin-1: \(s)")
            bytes.append(UInt8(s.value))
        }
        bytes.append(UInt8(ascii: "'"))
        bytes.append(0x0A)
        sink.append(bytes)
        segmentsInMessage += 1
        totalSegments += 1
    }

    /// Writes messages until the file reaches `targetBytes`; returns what was written.
    mutating func write(targetBytes: Int, to sink: FileSink) -> (bytes: Int, messages: Int, segments: Int) {
        let reference = "BENCH\(seed % 100_000_000)"
        sink.append(Array("UNA:+.? '\n".utf8))
        emit("UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+\(reference)++CUSCAR", to: sink)
        var messages = 0
        // Leave room for UNZ; always at least one message.
        while messages == 0 || sink.count + 40 < targetBytes {
            messages += 1
            message(number: messages, to: sink)
        }
        emit("UNZ+\(messages)+\(reference)", to: sink)
        return (sink.count, messages, totalSegments)
    }

    mutating func message(number n: Int, to sink: FileSink) {
        segmentsInMessage = 0
        let ref = "M\(n)"
        let carrier = rng.pick(Self.carriers)
        let vessel = rng.pick(carrier.vessels)
        let voyage = "\(rng.int(100...999))\(["N", "S", "E", "W", "R"][rng.int(0...4)])\(rng.int(10...99))"
        let manifest = "MAN\(seed % 10_000)-\(n)"
        let day = rng.int(1...28), hour = rng.int(0...23), minute = rng.int(0...59)
        let stamp = "202502" + two(day) + two(hour) + two(minute)
        let from = rng.pick(Self.ports)
        var to = rng.pick(Self.ports)
        if to == from { to = "KEMBA" == from ? "TZDAR" : "KEMBA" }

        emit("UNH+\(ref)+CUSCAR:D:95B:UN", to: sink)
        emit("BGM+85+\(manifest)+9", to: sink)
        emit("DTM+137:\(stamp):203", to: sink)
        emit("RFF+AFB:\(manifest)", to: sink)
        emit("RFF+VON:\(voyage)", to: sink)
        emit("NAD+CA+\(carrier.code):172:20", to: sink)
        emit("TDT+20+\(voyage)+1++\(carrier.code):172:20+++\(vessel.callSign):103::\(Self.esc(vessel.name))", to: sink)
        emit("LOC+5+\(from):139:6", to: sink)
        emit("LOC+60+\(to):139:6", to: sink)
        emit("DTM+132:202503\(two(rng.int(1...28)))\(two(rng.int(0...23)))00:203", to: sink)

        // Containers (header EQD groups).
        let containerCount = rng.int(10...60)
        var containers: [String] = []
        containers.reserveCapacity(containerCount)
        let serialBase = rng.int(0...900_000)
        for c in 0..<containerCount {
            let number = ISO6346.number(owner: carrier.owner, serial: serialBase + c * 7)
            containers.append(number)
            emit("EQD+CN+\(number)+\(rng.pick(Self.sizeTypes)):102:5++3+5", to: sink)
            emit("MEA+AAE+G+KGM:\(rng.int(2_000...30_000))", to: sink)
            emit("SEL+FJ\(rng.int(1_000_000...9_999_999))+CA", to: sink)
        }
        emit("CNT+16:\(containerCount)", to: sink)

        // Consignments (CNI groups), each with its bill of lading, parties and goods items.
        let consignments = rng.int(5...40)
        for i in 1...consignments {
            let bl = "\(carrier.code.prefix(3))U\(from.suffix(3))\(rng.int(100_000...999_999))"
            emit("CNI+\(i)+\(bl)", to: sink)
            emit("RFF+BM:\(bl)", to: sink)
            emit("LOC+9+\(from):139:6", to: sink)
            emit("LOC+11+\(to):139:6", to: sink)
            emit("NAD+CZ+++\(Self.esc(rng.pick(Self.parties)))", to: sink)
            emit("NAD+CN+++\(Self.esc(rng.pick(Self.parties)))", to: sink)
            if rng.int(0...3) == 0 { emit("NAD+N1+++\(Self.esc(rng.pick(Self.parties)))", to: sink) }
            for g in 1...rng.int(1...6) {
                let packages = rng.int(1...400)
                emit("GID+\(g)+\(packages):\(rng.pick(Self.packageTypes))", to: sink)
                var text = "FTX+AAA+++" + Self.esc(rng.pick(Self.goods))
                if rng.int(0...2) == 0 {
                    // A second and third line of free text (C108 has up to five an..70 components).
                    text += ":" + Self.esc("ORDER NO. \(rng.int(10_000...99_999)): PART OF LOT \(rng.int(1...99)) OF \(rng.int(100...200))")
                    text += ":" + Self.esc("SHIPPER'S LOAD, STOW AND COUNT")
                }
                emit(text, to: sink)
                emit("MEA+AAE+G+KGM:\(rng.int(50...25_000))", to: sink)
                let split = packages > 1 ? rng.int(1...2) : 1
                for s in 0..<split {
                    emit("SGP+\(containers[rng.int(0...(containers.count - 1))])+\(s == 0 ? packages - (split - 1) : 1)", to: sink)
                }
                emit("PCI+24+MARKS \(g)-\(packages)", to: sink)
                emit("CST++\(rng.pick(Self.hsCodes)):122", to: sink)
            }
        }
        emit("UNT+\(segmentsInMessage + 1)+\(ref)", to: sink)
    }

    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
}
