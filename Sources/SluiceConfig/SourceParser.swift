// Sources: `channels`, the channel selector and interceptors.

private let selectorPrefix = "selector."
private let interceptorsKey = "interceptors"
private let interceptorPrefix = "interceptors."

private func isSourceFrameworkKey(_ key: String) -> Bool {
    key == "channels" || key == interceptorsKey
        || key.hasPrefix(selectorPrefix) || key.hasPrefix(interceptorPrefix)
}

/// Validates one listed source. Returns nil when it has errors (already logged).
func parseSource(_ keys: ComponentKeys, channelList: NameList?, agent: String,
                 log: inout DiagnosticLog) -> SourceDefinition? {
    let errorsBefore = log.errors.count
    let component = makeComponent(keys, kind: .sources, log: &log, isFramework: isSourceFrameworkKey)

    var channels: [String] = []
    if let property = keys.property("channels") {
        channels = names(in: property, log: &log)
        for channel in channels where !(channelList?.names.contains(channel) ?? false) {
            log.error("channel '\(channel)' is not listed in \(agent).channels", key: property.fullKey, at: property.location)
        }
    } else {
        let hint = keys.property("channel") != nil ? " (sources take 'channels', plural)" : ""
        log.error("missing channels for source '\(keys.name)'\(hint)", key: keys.prefix + "channels", at: anchor(of: keys))
    }

    let selector = parseSelector(keys, sourceChannels: channels, log: &log)
    let interceptors = parseInterceptors(keys, log: &log)

    guard let component, log.errors.count == errorsBefore else { return nil }
    return SourceDefinition(component: component, channels: channels, selector: selector, interceptors: interceptors)
}

/// True for selector keys whose value is a list of the source's channels.
private func isChannelListSelectorKey(_ key: String) -> Bool {
    key == "optional" || key == "default" || key.hasPrefix("mapping.") || key.hasPrefix("optional.")
}

private func parseSelector(_ keys: ComponentKeys, sourceChannels: [String],
                           log: inout DiagnosticLog) -> SelectorDefinition {
    var selector = SelectorDefinition(type: "replicating", properties: [:], location: nil)
    var firstLocation: SourceLocation?
    for property in keys.properties where property.relativeKey.hasPrefix(selectorPrefix) {
        let key = String(property.relativeKey.dropFirst(selectorPrefix.count))
        if key.isEmpty {
            log.warning("unknown property; ignored", key: property.fullKey, at: property.location)
            continue
        }
        if firstLocation == nil { firstLocation = property.location }
        if key == "type" {
            selector.type = property.value
            selector.location = property.location
            continue
        }
        selector.properties[key] = property.value
        // Only check against a known channel list; a missing one is reported already.
        guard isChannelListSelectorKey(key), !sourceChannels.isEmpty else { continue }
        for channel in names(in: property, log: &log) where !sourceChannels.contains(channel) {
            log.error("channel '\(channel)' is not a channel of source '\(keys.name)' (\(keys.prefix)channels)",
                      key: property.fullKey, at: property.location)
        }
    }
    if selector.location == nil { selector.location = firstLocation }
    return selector
}

private func parseInterceptors(_ keys: ComponentKeys, log: inout DiagnosticLog) -> [InterceptorDefinition] {
    let list = keys.property(interceptorsKey)
    let listed = list.map { names(in: $0, log: &log) } ?? []

    // Group `interceptors.<name>.<key>` by name, in file order.
    var grouped: [String: [RelativeProperty]] = [:]
    var order: [String] = []
    for property in keys.properties where property.relativeKey.hasPrefix(interceptorPrefix) {
        let rest = property.relativeKey.dropFirst(interceptorPrefix.count)
        let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            log.warning("unknown property; ignored", key: property.fullKey, at: property.location)
            continue
        }
        let name = String(parts[0])
        if grouped[name] == nil { order.append(name) }
        var relative = property
        relative.relativeKey = String(parts[1])
        grouped[name, default: []].append(relative)
    }

    for name in order where !listed.contains(name) {
        let first = grouped[name]![0]
        let listKey = keys.prefix + interceptorsKey
        log.warning("interceptor '\(name)' is not listed in \(listKey); its properties are ignored",
                    key: first.fullKey, at: first.location)
    }

    var result: [InterceptorDefinition] = []
    for name in listed {
        let prefix = "\(keys.prefix)\(interceptorPrefix)\(name)."
        let properties = grouped[name] ?? []
        guard let type = properties.first(where: { $0.relativeKey == "type" }) else {
            let location = properties.first?.location ?? list!.location
            log.error("missing type for interceptor '\(name)'", key: prefix + "type", at: location)
            continue
        }
        var values: [String: String] = [:]
        var locations: [String: SourceLocation] = [:]
        for property in properties where property.relativeKey != "type" {
            values[property.relativeKey] = property.value
            locations[property.relativeKey] = property.location
        }
        result.append(InterceptorDefinition(name: name, type: type.value, location: type.location,
                                            properties: values, keyLocations: locations, keyPrefix: prefix))
    }
    return result
}
