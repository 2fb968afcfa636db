/// Where something was found in an interchange stream, in the terms CONTRL reports and an operator reads.
public struct Location: Hashable, Sendable, CustomStringConvertible {
    /// Byte offset from the start of the input (the file), of the segment or value in question.
    public var byteOffset: Int
    /// Segment number in the input, counting from 1 at the first segment (UNA is not a segment).
    public var segmentNumber: Int
    /// Position of the segment in its message, UNH = 1 (CONTRL data element 0096); 0 outside a message.
    public var segmentPositionInMessage: Int
    /// The segment tag, e.g. "UNB", "NAD"; empty when the tag could not be read.
    public var segmentTag: String
    /// Position of the data element in the segment, the tag counting as 1 (CONTRL 0098); 0 for the whole segment.
    public var elementPosition: Int
    /// Position of the component in its composite, from 1 (CONTRL 0104); 0 when not applicable.
    public var componentPosition: Int
    /// Occurrence of a repeating element, from 1 (CONTRL 0136, syntax version 4); 0 when not applicable.
    public var repetition: Int

    public init(
        byteOffset: Int, segmentNumber: Int, segmentPositionInMessage: Int = 0, segmentTag: String = "",
        elementPosition: Int = 0, componentPosition: Int = 0, repetition: Int = 0
    ) {
        self.byteOffset = byteOffset
        self.segmentNumber = segmentNumber
        self.segmentPositionInMessage = segmentPositionInMessage
        self.segmentTag = segmentTag
        self.elementPosition = elementPosition
        self.componentPosition = componentPosition
        self.repetition = repetition
    }

    public var description: String {
        var s = "segment \(segmentNumber)"
        if !segmentTag.isEmpty { s += " (\(segmentTag))" }
        if elementPosition > 0 {
            s += " element \(elementPosition)"
            if componentPosition > 0 { s += ":\(componentPosition)" }
            if repetition > 1 { s += " occurrence \(repetition)" }
        }
        s += " at byte \(byteOffset)"
        return s
    }
}
