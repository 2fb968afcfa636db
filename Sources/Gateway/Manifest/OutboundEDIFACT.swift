import EDIFACT

/// What every EDIFACT message the gateway writes from its model goes through (CUSCAR copies, COREOR releases,
/// CUSRES status): an interchange envelope around the messages, and our own validator before any byte leaves.
enum OutboundEDIFACT {
    /// Our validator must find nothing in what we send; the first finding is the refusal (`code`, naming the
    /// message type `what`).
    static func check(_ bytes: [UInt8], code: String, what: String) throws(ManifestMappingError) {
        for report in EDIFACTValidator.validate(bytes) {
            if let first = report.allDiagnostics.first {
                throw ManifestMappingError(code: code, location: "\(first.location.segmentTag) segment \(first.location.segmentPositionInMessage)",
                                           offset: first.location.byteOffset,
                                           message: "the \(what) written does not validate: \(first.reason)")
            }
        }
    }

    /// One interchange of `message`s from `sender` to `recipient`, its messages written by `body`: a value the
    /// writer refuses, or a finding of our validator in the result, is a refusal with `code` (never bytes sent
    /// malformed). Shared by the messages the verdict sends (COREOR, CUSRES).
    static func interchange(message: String, code: String, sender: [String], recipient: [String], reference: String,
                            at date: EDIFACTDateTime, syntax: SyntaxIdentifier = .UNOC, segmentSuffix: String,
                            _ body: (inout EDIFACTWriter) throws(WriterError) -> Void) throws(ManifestMappingError) -> [UInt8] {
        var w = EDIFACTWriter(syntaxIdentifier: syntax, syntaxVersion: 3, serviceStringAdvice: true, segmentSuffix: segmentSuffix)
        do throws(WriterError) {
            try w.beginInterchange(sender: sender, recipient: recipient, at: date, reference: reference, applicationReference: message)
            try body(&w)
            try w.endInterchange()
        } catch {
            throw ManifestMappingError(code: code, location: error.segmentTag, message: "cannot write \(error.segmentTag): \(error.message)")
        }
        try check(w.bytes, code: code, what: message)
        return w.bytes
    }
}
