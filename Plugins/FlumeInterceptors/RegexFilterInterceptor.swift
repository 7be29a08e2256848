import PluginRegex
import SluiceSDK

/// Flume's `regex_filter` interceptor: searches each body for `regex` (a
/// match anywhere, like Java's `find()`). By default events that match are
/// kept and the rest dropped; with `excludeEvents` matching events are
/// dropped instead. Matching runs on the raw body bytes.
final class RegexFilterInterceptor: Interceptor {
    static let configKeys: [ConfigKey] = [
        ConfigKey("regex", .string, default: ".*", "Regular expression searched for in the body"),
        ConfigKey("excludeEvents", .bool, default: "false", "true: drop matching events; false: keep only them"),
    ]

    private let context: ComponentContext
    private let regex: PCRE2Regex
    private let excludeEvents: Bool
    /// The pattern matches every body (the default `.*`, or empty).
    private let matchesEverything: Bool

    init(context: ComponentContext, properties: Properties) throws {
        self.context = context
        let pattern = properties.string("regex", default: ".*")
        regex = try PCRE2Regex(pattern: pattern, key: "regex")
        excludeEvents = try properties.bool("excludeEvents", default: false)
        matchesEverything = pattern == ".*" || pattern.isEmpty
    }

    func intercept(_ batch: MutableBatch) throws {
        if batch.isEmpty { return }
        if matchesEverything {
            if excludeEvents { batch.removeAll(where: { _ in true }) }
            return
        }
        let exclude = excludeEvents
        let regex = self.regex
        let context = self.context
        // Drop an event when "it matched" equals "matches are excluded".
        batch.removeAll { event in
            regex.matches(event.body, context: context) == exclude
        }
    }
}
