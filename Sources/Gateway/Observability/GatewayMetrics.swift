// Placeholder until the metrics module lands: same API, no backend.
enum GatewayMetrics {
    static func fileIn(partner: String) {}
    static func fileOut(partner: String, kind: String) {}
    static func failure(code: String) {}
    static func setQueueDepth(kind: String, state: String, value: Int) {}
    static func setOldestWaiting(partner: String, seconds: Double) {}
    static func jobDuration(kind: String, seconds: Double) {}
}
