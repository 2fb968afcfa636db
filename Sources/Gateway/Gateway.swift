/// Identity of this gateway build, reported by the CLI, receipts and logs.
public enum GatewayInfo {
    /// The gateway version string (semantic versioning).
    public static let version = "0.1.0"
}
