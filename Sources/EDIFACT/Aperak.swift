// APERAK D96A (application error and acknowledgement) for a message whose content was judged.
// Structure (research notes §3, identical in D95B): UNH BGM DTM SG1(RFF DTM) SG2(NAD) SG3(ERC FTX SG4(RFF)) UNT.

/// One business-rule finding about a received message, as the APERAK reports it.
public struct ApplicationError: Sendable, Hashable {
    /// The gateway's own error code (ERC C901/9321, an..8): D96A has no UN code list for it.
    public var code: String
    /// What is wrong, for a person; split over FTX 4440 components of 70 characters, at most 5.
    public var text: String
    /// The faulty item, e.g. ("BM", bill of lading number) or ("AAQ", container number), written as SG4 RFF.
    public var reference: (qualifier: String, value: String)?

    /// Creates a finding; `reference` points the partner at the item to fix.
    public init(code: String, text: String, reference: (qualifier: String, value: String)? = nil) {
        self.code = code
        self.text = text
        self.reference = reference
    }

    // Written by hand because a tuple property stops Equatable and Hashable from being synthesized.
    public static func == (a: Self, b: Self) -> Bool {
        a.code == b.code && a.text == b.text && a.reference?.qualifier == b.reference?.qualifier && a.reference?.value == b.reference?.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(text)
        hasher.combine(reference?.qualifier)
        hasher.combine(reference?.value)
    }
}

/// How an APERAK is shaped beyond the message structure: partner conventions.
public struct AperakOptions: Sendable, Hashable {
    /// BGM C002/1001: 963 "Error response (Customs)" is valid in D96A; 312/313 for partners that want them.
    public var documentCode: String
    /// UNH S009/0054: "96A" or "95B" (same structure); later directories have another layout.
    public var directoryRelease: String
    /// UNB 0031: ask the partner for a CONTRL for this APERAK.
    public var acknowledgementRequest: Bool
    /// Delimiters of the reply; nil mirrors the subject's when usable, else the Level A defaults.
    public var delimiters: Delimiters?
    /// Whether to write UNA; nil writes it when the subject had one or the delimiters are not the defaults.
    public var serviceStringAdvice: Bool?
    /// Text after each segment terminator, e.g. "\n"; empty by default.
    public var segmentSuffix: String

    /// Creates options; the defaults give a strictly D96A-valid APERAK.
    public init(documentCode: String = "963", directoryRelease: String = "96A", acknowledgementRequest: Bool = false,
                delimiters: Delimiters? = nil, serviceStringAdvice: Bool? = nil, segmentSuffix: String = "") {
        self.documentCode = documentCode
        self.directoryRelease = directoryRelease
        self.acknowledgementRequest = acknowledgementRequest
        self.delimiters = delimiters
        self.serviceStringAdvice = serviceStringAdvice
        self.segmentSuffix = segmentSuffix
    }
}

/// Builds the APERAK that tells a sender whether a message's content was accepted, and why not.
public struct AperakBuilder: Sendable {
    /// Message types never answered with an APERAK: receipts are not acknowledged, or partners would loop.
    static let receiptTypes: Set<String> = ["APERAK", "CONTRL"]

    /// An interchange holding one APERAK about `message` of `subject`: rejected (1225 = 27) when `errors`
    /// is not empty, accepted (29) otherwise.
    ///
    /// nil when the message (or the whole subject) is an APERAK or CONTRL, or when the reply cannot be
    /// written (e.g. an error code longer than 8 characters); `makeAperak` says why.
    /// - Parameters:
    ///   - reference: UNB 0020 of the new interchange.
    ///   - messageReference: UNH 0062 of the APERAK.
    ///   - documentNumber: BGM 1004, this APERAK's own number.
    ///   - messageDate: when the answered message was prepared (DTM+171), if known.
    public static func aperak(
        for subject: InterchangeReport, message: MessageReport, errors: [ApplicationError], ourIdentity: [String],
        reference: String, messageReference: String = "1", documentNumber: String, at date: EDIFACTDateTime,
        messageDate: EDIFACTDateTime? = nil, options: AperakOptions = .init()
    ) -> [UInt8]? {
        try? makeAperak(for: subject, message: message, errors: errors, ourIdentity: ourIdentity, reference: reference,
                        messageReference: messageReference, documentNumber: documentNumber, at: date,
                        messageDate: messageDate, options: options)
    }

    /// Like `aperak`, but throws when the reply cannot be written, so the caller can log the reason.
    public static func makeAperak(
        for subject: InterchangeReport, message: MessageReport, errors: [ApplicationError], ourIdentity: [String],
        reference: String, messageReference: String = "1", documentNumber: String, at date: EDIFACTDateTime,
        messageDate: EDIFACTDateTime? = nil, options: AperakOptions = .init()
    ) throws(WriterError) -> [UInt8]? {
        if receiptTypes.contains(message.type) { return nil }
        let all = subject.allMessages
        if !all.isEmpty && all.allSatisfy({ receiptTypes.contains($0.type) }) { return nil }
        try checkErrorCodes(errors)
        if let messageDate, !messageDate.isValid {
            throw WriterError(code: .invalidValue, segmentTag: "DTM", elementPosition: 2, componentPosition: 2,
                              message: "DTM+171 element 2:2: \(messageDate) is not a valid date and time")
        }

        let plan = Reply.plan(for: subject, delimiters: options.delimiters)
        return try Reply.write(plan: plan) { (syntax: Reply.Attempt) throws(WriterError) -> [UInt8] in
            var w = Reply.writer(for: subject, plan: plan, syntax: syntax, serviceStringAdvice: options.serviceStringAdvice,
                                 segmentSuffix: options.segmentSuffix)
            try w.beginInterchange(sender: ourIdentity, recipient: subject.sender, at: date, reference: reference,
                                   acknowledgementRequest: options.acknowledgementRequest, testIndicator: subject.testIndicator == "1")
            try w.beginMessage(reference: messageReference, identifier: ["APERAK", "D", options.directoryRelease, "UN"])
            try w.segment("BGM", [[options.documentCode], [documentNumber], [errors.isEmpty ? "29" : "27"]])
            try w.segment("DTM", [["137", date.ccyymmddhhmm, "203"]])
            // SG1: the message answered, by its UNH reference.
            try w.segment("RFF", [["ACW", message.reference]])
            if let messageDate { try w.segment("DTM", [["171", messageDate.ccyymmddhhmm, "203"]]) }
            // SG2: issuer and recipient of this APERAK.
            try w.segment("NAD", [["MS"], party(ourIdentity)])
            try w.segment("NAD", [["MR"], party(subject.sender)])
            // SG3: one ERC per finding (at most 999), its text, and the item it concerns.
            try writeErrors(errors, to: &w)
            try w.endMessage()
            try w.endInterchange()
            return w.bytes
        }
    }

    /// ERC codes are 9321 an..8: refused before anything is written, so a bad code never yields half a reply.
    static func checkErrorCodes(_ errors: [ApplicationError]) throws(WriterError) {
        for e in errors.prefix(999) where e.code.isEmpty || e.code.unicodeScalars.count > 8 {
            throw WriterError(code: .invalidValue, segmentTag: "ERC", elementPosition: 2, componentPosition: 1,
                              message: "ERC element 2:1: the application error code must be 1 to 8 characters")
        }
    }

    /// SG3: one ERC per finding (at most 999), its text as FTX+AAO, and the item it concerns as RFF.
    static func writeErrors(_ errors: [ApplicationError], to w: inout EDIFACTWriter) throws(WriterError) {
        for e in errors.prefix(999) {
            try w.segment("ERC", [[e.code]])
            let lines = textLines(e.text)
            if !lines.isEmpty { try w.segment("FTX", [["AAO"], [], [], lines]) }
            if let r = e.reference { try w.segment("RFF", [[r.qualifier, r.value]]) }
        }
    }

    /// NAD C082 from a UNB party identification: 3039 id, 1131 empty, 3055 agency = the UNB qualifier (0007).
    static func party(_ identity: [String]) -> [String] {
        guard let id = identity.first else { return [] }
        return identity.count > 1 ? [id, "", identity[1]] : [id]
    }

    /// FTX C108: the text in lines of at most 70 characters (4440 is an..70), at most five (the rest is
    /// dropped). A line ends after its last space when there is one in its second half, so words stay whole;
    /// the space stays at the end of its line, so the lines put back together are the text exactly.
    static func textLines(_ text: String) -> [String] {
        var lines: [String] = []
        var rest = Array(text.unicodeScalars)
        while !rest.isEmpty && lines.count < 5 {
            var cut = min(70, rest.count)
            if cut < rest.count, let space = rest[35..<cut].lastIndex(of: " ") { cut = space + 1 }
            lines.append(String(String.UnicodeScalarView(rest[0..<cut])))
            rest.removeFirst(cut)
        }
        return lines
    }
}

extension AperakBuilder {
    /// An APERAK about a whole file that could not be read as an interchange (no UNB to copy from), addressed
    /// to the partner's configured identity: BGM rejected (27) or accepted (29), RFF+ACE with the file name (cut to 35
    /// characters), then one ERC/FTX per error. Written in `syntax` (version 3, Level A delimiters); when a value
    /// does not fit (a lower-case file name in UNOA), once more in UNOC, as for every reply.
    /// With no errors it is an acceptance (1225 = 29): the answer to a file judged good that has no CONTRL
    /// of its own (an XML document).
    public static func fileAperak(
        fileName: String, errors: [ApplicationError], ourIdentity: [String], recipient: [String],
        syntax: SyntaxIdentifier, reference: String, documentNumber: String, at date: EDIFACTDateTime,
        options: AperakOptions = .init()
    ) throws(WriterError) -> [UInt8] {
        try checkErrorCodes(errors)
        let fallback: SyntaxIdentifier? = (syntax == .UNOA || syntax == .UNOB) ? .UNOC : nil
        let plan = Reply.Plan(syntax: syntax, version: 3, delimiters: options.delimiters ?? .levelA(syntaxVersion: 3),
                              fallback: fallback)
        return try Reply.write(plan: plan) { (syntax: Reply.Attempt) throws(WriterError) -> [UInt8] in
            var w = EDIFACTWriter(syntaxIdentifier: syntax.repertoire, syntaxVersion: 3, delimiters: plan.delimiters,
                                  serviceStringAdvice: options.serviceStringAdvice ?? false,
                                  segmentSuffix: options.segmentSuffix)
            w.substitute = syntax.substitute
            try w.beginInterchange(sender: ourIdentity, recipient: recipient, at: date, reference: reference,
                                   acknowledgementRequest: options.acknowledgementRequest)
            try w.beginMessage(reference: "1", identifier: ["APERAK", "D", options.directoryRelease, "UN"])
            try w.segment("BGM", [[options.documentCode], [documentNumber], [errors.isEmpty ? "29" : "27"]])
            try w.segment("DTM", [["137", date.ccyymmddhhmm, "203"]])
            try w.segment("RFF", [["ACE", String(fileName.unicodeScalars.prefix(35).map(Character.init))]])
            try w.segment("NAD", [["MS"], party(ourIdentity)])
            try w.segment("NAD", [["MR"], party(recipient)])
            try writeErrors(errors, to: &w)
            try w.endMessage()
            try w.endInterchange()
            return w.bytes
        }
    }
}
