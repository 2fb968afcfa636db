import Testing
@testable import EDIFACT

/// Repertoires, decoding and encoding per syntax identifier (ISO 9735 0001).
@Suite struct CharacterSetTests {
    private func allowed(_ id: SyntaxIdentifier, _ byte: UInt8) -> Bool { id.allowedBytes[Int(byte)] }

    private func invalidOffset(_ id: SyntaxIdentifier, _ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { id.firstInvalidUTF8Offset($0) }
    }

    @Test func everyTableHas256Entries() {
        for id in SyntaxIdentifier.allCases { #expect(id.allowedBytes.count == 256) }
    }

    @Test func repertoireSizes() {
        let sizes = Dictionary(uniqueKeysWithValues: SyntaxIdentifier.allCases.map { id in
            (id, id.allowedBytes.filter { $0 }.count)
        })
        // 95 printable ASCII + the defined high-half positions of each ISO 8859 part.
        #expect(sizes == [
            .UNOA: 56, .UNOB: 85, .UNOC: 191, .UNOD: 191, .UNOE: 191, .UNOF: 188, .UNOG: 184, .UNOH: 191,
            .UNOI: 146, .UNOJ: 155, .UNOK: 191, .UNOL: 191, .UNOW: 223, .UNOX: 223, .UNOY: 223,
        ])
    }

    @Test func unoaRejectsLowerCaseAndNationalCharacters() {
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { #expect(!allowed(.UNOA, b)) }
        for c in "#$@[\\]^_`{|}~".utf8 { #expect(!allowed(.UNOA, c)) }
        for b: UInt8 in [0x0A, 0x0D, 0x09, 0x1C, 0x1D, 0x1F, 0x7F, 0x80, 0xE9] { #expect(!allowed(.UNOA, b)) }
        #expect(SyntaxIdentifier.UNOA.encode("abc") == nil)
        #expect(SyntaxIdentifier.UNOA.encode("A#1") == nil)
    }

    @Test func unoaAcceptsServiceCharactersAndLevelAPunctuation() {
        for c in "'+:? .,-()/=!\"%&*;<>AZ09".utf8 { #expect(allowed(.UNOA, c)) }
        #expect(SyntaxIdentifier.UNOA.encode("UNB+UNOA:3+A?'B'") == Array("UNB+UNOA:3+A?'B'".utf8))
        #expect(SyntaxIdentifier.UNOA.decode(Array("DTM+137:20250131:102'".utf8)) == "DTM+137:20250131:102'")
    }

    @Test func unoaDecodesEachHighByteAsOneReplacementCharacter() {
        // C3 A9 is "é" in UTF-8, but UNOA is not UTF-8.
        #expect(SyntaxIdentifier.UNOA.decode([0x41, 0xC3, 0xA9]) == "A\u{FFFD}\u{FFFD}")
    }

    @Test func unobAcceptsInformationSeparatorsButNotAt() {
        for b: UInt8 in [0x1C, 0x1D, 0x1F] { #expect(allowed(.UNOB, b)) }
        #expect(!allowed(.UNOB, 0x1E))
        #expect(!allowed(.UNOB, UInt8(ascii: "@")))
        #expect(!allowed(.UNOB, 0x60))
        #expect(allowed(.UNOB, UInt8(ascii: "q")))
        #expect(SyntaxIdentifier.UNOB.encode("a\u{1D}b") == [0x61, 0x1D, 0x62])
        #expect(SyntaxIdentifier.UNOB.encode("user@example") == nil)
    }

    @Test func unocDecodesLatin1() {
        #expect(SyntaxIdentifier.UNOC.decode([0xE9]) == "é")
        #expect(SyntaxIdentifier.UNOC.decode([0x43, 0x61, 0x66, 0xE9]) == "Café")
        #expect(SyntaxIdentifier.UNOC.encode("Café") == [0x43, 0x61, 0x66, 0xE9])
        #expect(SyntaxIdentifier.UNOC.encode("€") == nil)
        #expect(!allowed(.UNOC, 0x0A))
        #expect(!allowed(.UNOC, 0x7F))
        #expect(!allowed(.UNOC, 0x85))
        #expect(allowed(.UNOC, 0xA0))
    }

    @Test func unodDecodesLatin2() {
        #expect(SyntaxIdentifier.UNOD.decode([0xB1]) == "ą")
        #expect(SyntaxIdentifier.UNOD.decode([0xB1]).unicodeScalars.map(\.value) == [0x0105])
        #expect(SyntaxIdentifier.UNOD.encode("ą") == [0xB1])
    }

    @Test func unoeDecodesCyrillic() {
        #expect(SyntaxIdentifier.UNOE.decode([0xBC, 0xDE, 0xE1, 0xDA, 0xD2, 0xD0]) == "Москва")
        #expect(SyntaxIdentifier.UNOE.encode("Москва") == [0xBC, 0xDE, 0xE1, 0xDA, 0xD2, 0xD0])
    }

    @Test func unofRejectsUndefinedGreekPositions() {
        for b: UInt8 in [0xAE, 0xD2, 0xFF] {
            #expect(!allowed(.UNOF, b))
            #expect(SyntaxIdentifier.UNOF.decode([b]) == "\u{FFFD}")
        }
        #expect(allowed(.UNOF, 0xE1))
        #expect(SyntaxIdentifier.UNOF.decode([0xE1]) == "α")
        #expect(SyntaxIdentifier.UNOF.encode("\u{FFFD}") == nil)
    }

    @Test func otherPartsLeaveTheirUndefinedPositionsOut() {
        #expect(!allowed(.UNOG, 0xA5))  // 8859-3
        #expect(!allowed(.UNOI, 0xA1))  // 8859-6
        #expect(!allowed(.UNOJ, 0xA1))  // 8859-8
        #expect(SyntaxIdentifier.UNOL.decode([0xA4]) == "€")
        #expect(SyntaxIdentifier.UNOL.encode("€") == [0xA4])
        #expect(SyntaxIdentifier.UNOK.decode([0xFD]) == "ı")
    }

    @Test func unoyDecodesChineseUTF8() {
        let name = "上海进出口有限公司"
        let bytes: [UInt8] = [
            0xE4, 0xB8, 0x8A, 0xE6, 0xB5, 0xB7, 0xE8, 0xBF, 0x9B, 0xE5, 0x87, 0xBA, 0xE5, 0x8F, 0xA3,
            0xE6, 0x9C, 0x89, 0xE9, 0x99, 0x90, 0xE5, 0x85, 0xAC, 0xE5, 0x8F, 0xB8,
        ]
        #expect(SyntaxIdentifier.UNOY.decode(bytes) == name)
        #expect(SyntaxIdentifier.UNOY.encode(name) == bytes)
        #expect(invalidOffset(.UNOY, bytes) == nil)
        #expect(invalidOffset(.UNOW, bytes) == nil)
    }

    @Test func firstInvalidUTF8OffsetFindsTruncatedSequence() {
        // "NAD+" then 上 with its last byte missing, then a segment terminator.
        let truncated: [UInt8] = Array("NAD+".utf8) + [0xE4, 0xB8] + Array("'".utf8)
        #expect(invalidOffset(.UNOY, truncated) == 4)
        // Truncated at the very end of the buffer.
        #expect(invalidOffset(.UNOY, Array("上".utf8) + [0xE6, 0xB5]) == 3)
        // UNOA..UNOL and UNOX make no UTF-8 promise.
        #expect(invalidOffset(.UNOC, truncated) == nil)
        #expect(invalidOffset(.UNOX, truncated) == nil)
    }

    @Test func firstInvalidUTF8OffsetRejectsIllFormedSequences() {
        #expect(invalidOffset(.UNOY, []) == nil)
        #expect(invalidOffset(.UNOY, [0x41, 0x80]) == 1)  // lone continuation byte
        #expect(invalidOffset(.UNOY, [0xC0, 0x80]) == 0)  // overlong NUL
        #expect(invalidOffset(.UNOY, [0xE0, 0x80, 0x80]) == 0)  // overlong
        #expect(invalidOffset(.UNOY, [0xED, 0xA0, 0x80]) == 0)  // surrogate U+D800
        #expect(invalidOffset(.UNOY, [0xF4, 0x90, 0x80, 0x80]) == 0)  // above U+10FFFF
        #expect(invalidOffset(.UNOY, [0xF5, 0x80, 0x80, 0x80]) == 0)
        #expect(invalidOffset(.UNOY, [0xFF]) == 0)
        #expect(invalidOffset(.UNOY, [0xF0, 0x9F, 0x98, 0x80]) == nil)  // U+1F600
        #expect(invalidOffset(.UNOY, [0xE2, 0x82, 0x41]) == 0)  // bad third byte
    }

    @Test func firstInvalidUTF8OffsetCrossesTheASCIIFastPath() {
        for prefix in 0..<40 {
            for suffix in [0, 1, 9] {
                let bytes = [UInt8](repeating: 0x41, count: prefix) + [0xC3, 0x28] + [UInt8](repeating: 0x42, count: suffix)
                #expect(invalidOffset(.UNOW, bytes) == prefix)
                let valid = [UInt8](repeating: 0x41, count: prefix) + [0xC3, 0xA9] + [UInt8](repeating: 0x42, count: suffix)
                #expect(invalidOffset(.UNOW, valid) == nil)
            }
        }
    }

    @Test(arguments: SyntaxIdentifier.allCases)
    func roundTripsEveryAllowedByte(_ id: SyntaxIdentifier) {
        // UTF-8 identifiers allow 0x80-0xFF only inside multi-byte sequences; those are covered below.
        let singleByte: (UInt8) -> Bool = [.UNOW, .UNOX, .UNOY].contains(id) ? { $0 < 0x80 } : { _ in true }
        let bytes = (0...255).map(UInt8.init).filter { id.allowedBytes[Int($0)] && singleByte($0) }
        #expect(!bytes.isEmpty)
        #expect(id.encode(id.decode(bytes)) == bytes)
        for b in bytes {
            #expect(id.encode(id.decode([b])) == [b])
            #expect(id.decode([b]).unicodeScalars.count == 1)
        }
        // Bytes outside the repertoire decode to something encode refuses (controls, U+FFFD, lower case in UNOA).
        for b in (0...255).map(UInt8.init) where !id.allowedBytes[Int(b)] {
            if [.UNOW, .UNOX, .UNOY].contains(id), b >= 0x80 { continue }
            #expect(id.encode(id.decode([b])) == nil)
        }
    }

    @Test(arguments: [SyntaxIdentifier.UNOW, .UNOX, .UNOY])
    func utf8RoundTripsEveryNonASCIIScalar(_ id: SyntaxIdentifier) {
        var text = String.UnicodeScalarView()
        for value in UInt32(0x80)...0x10FFFF {
            if let scalar = Unicode.Scalar(value) { text.append(scalar) }
        }
        let string = String(text)
        let bytes = Array(string.utf8)
        #expect(bytes.count == 0x780 * 2 + (0x10000 - 0x800 - 0x800) * 3 + 0x100000 * 4)
        #expect(id.encode(string) == bytes)
        #expect(id.decode(bytes).unicodeScalars.elementsEqual(string.unicodeScalars))
        if id != .UNOX { #expect(invalidOffset(id, bytes) == nil) }
    }
}
