// Temporary stand-in until the directory tables land. DELETE when Directory/* exists.
public struct MessageStructureValidator {
    public init?(identifier: [String], syntaxVersion: Int) { return nil }
    public mutating func accept(_ segment: SegmentView, position: Int, into diagnostics: inout [Diagnostic]) {}
    public mutating func finish(lastPosition: Int, lastLocation: Location, into diagnostics: inout [Diagnostic]) {}
}
public enum ServiceSegmentValidator {
    public static func validateElements(_ segment: SegmentView, syntaxVersion: Int, positionInMessage: Int, into diagnostics: inout [Diagnostic]) {}
}
