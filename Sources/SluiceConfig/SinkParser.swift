// Sinks (`channel`) and sink groups (`sinks`, `processor.*`).

/// Validates one listed sink. Returns nil when it has errors (already logged).
func parseSink(_ keys: ComponentKeys, channelList: NameList?, agent: String,
               log: inout DiagnosticLog) -> SinkDefinition? {
    let component = makeComponent(keys, kind: .sinks, log: &log, isFramework: { $0 == "channel" })
    guard let property = keys.property("channel") else {
        let hint = keys.property("channels") != nil ? " (sinks take 'channel', singular)" : ""
        log.error("missing channel for sink '\(keys.name)'\(hint)", key: keys.prefix + "channel", at: anchor(of: keys))
        return nil
    }
    let channels = splitOnWhitespace(property.value)
    guard channels.count == 1 else {
        log.error("a sink takes exactly one channel, found \(channels.count): \(property.value)",
                  key: property.fullKey, at: property.location)
        return nil
    }
    guard channelList?.names.contains(channels[0]) ?? false else {
        log.error("channel '\(channels[0])' is not listed in \(agent).channels", key: property.fullKey, at: property.location)
        return nil
    }
    guard let component else { return nil }
    return SinkDefinition(component: component, channel: channels[0])
}

private let processorPrefix = "processor."

/// Validates the listed sink groups: each needs `sinks`, naming listed sinks that are in no other group.
func parseSinkGroups(_ groups: [ComponentKeys], sinkList: NameList?, agent: String,
                     log: inout DiagnosticLog) -> [SinkGroupDefinition] {
    var owner: [String: String] = [:]
    var result: [SinkGroupDefinition] = []
    for keys in groups {
        let errorsBefore = log.errors.count
        var processorType = "default"
        var processorProperties: [String: String] = [:]
        for property in keys.properties where property.relativeKey != "sinks" {
            guard property.relativeKey.hasPrefix(processorPrefix),
                  property.relativeKey.count > processorPrefix.count else {
                log.warning("unknown property; ignored", key: property.fullKey, at: property.location)
                continue
            }
            let key = String(property.relativeKey.dropFirst(processorPrefix.count))
            if key == "type" {
                processorType = property.value
            } else {
                processorProperties[key] = property.value
            }
        }

        guard let sinksProperty = keys.property("sinks") else {
            log.error("missing sinks for sink group '\(keys.name)'", key: keys.prefix + "sinks",
                      at: keys.properties[0].location)
            continue
        }
        let sinks = names(in: sinksProperty, log: &log)
        for sink in sinks {
            if !(sinkList?.names.contains(sink) ?? false) {
                log.error("sink '\(sink)' is not listed in \(agent).sinks", key: sinksProperty.fullKey,
                          at: sinksProperty.location)
            } else if let other = owner[sink] {
                log.error("sink '\(sink)' is already in sink group '\(other)'", key: sinksProperty.fullKey,
                          at: sinksProperty.location)
            } else {
                owner[sink] = keys.name
            }
        }
        guard log.errors.count == errorsBefore else { continue }
        result.append(SinkGroupDefinition(name: keys.name, sinks: sinks, processorType: processorType,
                                          processorProperties: processorProperties,
                                          location: sinksProperty.location))
    }
    return result
}
