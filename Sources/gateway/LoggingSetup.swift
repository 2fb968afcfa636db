import ArgumentParser
import Foundation
import Logging

/// The log level an operator picks: `--log-level` beats $GATEWAY_LOG_LEVEL beats the command's default.
enum LoggingSetup {
    /// The environment variable that sets the level when `--log-level` is not given.
    static let environmentVariable = "GATEWAY_LOG_LEVEL"

    /// Sends every log line to standard error (standard output is the command's report) at `level`.
    /// Called once, by the command that runs the pipeline, before any logger is made.
    static func bootstrap(option: String?, defaultLevel: Logger.Level) throws {
        let text = option ?? ProcessInfo.processInfo.environment[environmentVariable]
        var level = defaultLevel
        if let text, !text.isEmpty {
            guard let parsed = Logger.Level(rawValue: text.lowercased()) else {
                let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("Invalid log level '\(text)': use one of \(names)")
            }
            level = parsed
        }
        let chosen = level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = chosen
            return handler
        }
    }
}
