// Helpers for answering ApiVersions.

extension ApiVersionsResponse {
    /// One entry per API this module knows, in api key order. `limits` narrows an API's
    /// range (e.g. `[.produce: 3...9]`); an API whose limit does not overlap its valid
    /// versions is left out, as is any API in `excluding`.
    public static func supportedApis(
        limits: [KafkaApiKey: ClosedRange<Int16>] = [:], excluding: Set<KafkaApiKey> = []
    ) -> [ApiVersion] {
        KafkaApiKey.allCases.compactMap { api in
            guard !excluding.contains(api) else { return nil }
            var range = api.validVersions
            if let limit = limits[api] {
                guard range.overlaps(limit) else { return nil }
                range = range.clamped(to: limit)
            }
            return ApiVersion(apiKey: api.rawValue, minVersion: range.lowerBound, maxVersion: range.upperBound)
        }
    }

    /// The answer to an ApiVersions request whose version is not supported: version 0
    /// body with UNSUPPORTED_VERSION (35) and the supported APIs, so the client can retry
    /// with a version it finds there. Write it with `writeFrame(to:version: 0, ...)`.
    public static func unsupportedVersion(apis: [ApiVersion] = supportedApis()) -> ApiVersionsResponse {
        ApiVersionsResponse(errorCode: 35, apiKeys: apis)
    }
}
