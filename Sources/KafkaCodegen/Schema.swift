// The schema model: what KafkaCodegen reads out of one message definition file.

import Foundation

struct SchemaError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A set of versions, as sorted disjoint closed intervals. "N+" is open-ended (up to Int16.max).
struct Versions: Equatable, CustomStringConvertible {
    static let highest = Int(Int16.max)
    static let none = Versions(ranges: [])

    var ranges: [ClosedRange<Int>]

    init(ranges: [ClosedRange<Int>]) {
        self.ranges = ranges
    }

    init(_ range: ClosedRange<Int>) {
        self.ranges = [range]
    }

    /// Parses "none", "N", "N+" or "N-M".
    init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "none" {
            ranges = []
        } else if t.hasSuffix("+"), let low = Int(t.dropLast()) {
            ranges = [low...Versions.highest]
        } else if let dash = t.firstIndex(of: "-"), let low = Int(t[..<dash]), let high = Int(t[t.index(after: dash)...]), low <= high {
            ranges = [low...high]
        } else if let single = Int(t) {
            ranges = [single...single]
        } else {
            throw SchemaError("bad version range \"\(text)\"")
        }
    }

    var isEmpty: Bool { ranges.isEmpty }

    func contains(_ version: Int) -> Bool { ranges.contains { $0.contains(version) } }

    /// Smallest interval holding all of the set.
    var hull: ClosedRange<Int>? {
        guard let first = ranges.first, let last = ranges.last else { return nil }
        return first.lowerBound...last.upperBound
    }

    func intersection(_ range: ClosedRange<Int>) -> Versions {
        Versions(ranges: ranges.compactMap { r in
            let low = max(r.lowerBound, range.lowerBound)
            let high = min(r.upperBound, range.upperBound)
            return low <= high ? low...high : nil
        })
    }

    func intersection(_ other: Versions) -> Versions {
        Versions(ranges: other.ranges.flatMap { intersection($0).ranges }.sorted { $0.lowerBound < $1.lowerBound })
    }

    func subtracting(_ other: Versions) -> Versions {
        var result = ranges
        for cut in other.ranges {
            result = result.flatMap { r -> [ClosedRange<Int>] in
                var pieces: [ClosedRange<Int>] = []
                if r.lowerBound < cut.lowerBound { pieces.append(r.lowerBound...min(r.upperBound, cut.lowerBound - 1)) }
                if r.upperBound > cut.upperBound { pieces.append(max(r.lowerBound, cut.upperBound + 1)...r.upperBound) }
                return pieces
            }
        }
        return Versions(ranges: result)
    }

    var description: String {
        if ranges.isEmpty { return "none" }
        return ranges.map { r in
            if r.upperBound == Versions.highest { return "\(r.lowerBound)+" }
            if r.lowerBound == r.upperBound { return "\(r.lowerBound)" }
            return "\(r.lowerBound)-\(r.upperBound)"
        }.joined(separator: ", ")
    }
}

indirect enum FieldType: Equatable {
    case bool, int8, int16, uint16, int32, uint32, int64, float64
    case string, bytes, records, uuid
    case array(FieldType)
    case structRef(String)

    static func primitive(_ name: String) -> FieldType? {
        switch name {
        case "bool": return .bool
        case "int8": return .int8
        case "int16": return .int16
        case "uint16": return .uint16
        case "int32": return .int32
        case "uint32": return .uint32
        case "int64": return .int64
        case "float64": return .float64
        case "string": return .string
        case "bytes": return .bytes
        case "records": return .records
        case "uuid": return .uuid
        default: return nil
        }
    }

    var isInteger: Bool {
        switch self {
        case .int8, .int16, .uint16, .int32, .uint32, .int64: return true
        default: return false
        }
    }

    var integerBounds: ClosedRange<Int64>? {
        switch self {
        case .int8: return Int64(Int8.min)...Int64(Int8.max)
        case .int16: return Int64(Int16.min)...Int64(Int16.max)
        case .uint16: return 0...Int64(UInt16.max)
        case .int32: return Int64(Int32.min)...Int64(Int32.max)
        case .uint32: return 0...Int64(UInt32.max)
        case .int64: return Int64.min...Int64.max
        default: return nil
        }
    }
}

struct FieldSpec {
    var name: String
    var type: FieldType
    var versions: Versions
    var nullableVersions: Versions
    var taggedVersions: Versions
    var tag: Int?
    var ignorable: Bool
    /// The schema's "default" text, if any.
    var defaultText: String?
    /// A field-level "flexibleVersions" that overrides the message's (the request header's ClientId).
    var flexibleOverride: Versions?

    /// Swift type is Optional when the field is nullable in any version (records always are).
    var isOptional: Bool { !nullableVersions.isEmpty || type == .records }
}

final class StructSpec {
    let name: String
    var fields: [FieldSpec]
    /// Versions in which this struct can appear on the wire.
    var context: ClosedRange<Int>

    init(name: String, fields: [FieldSpec], context: ClosedRange<Int>) {
        self.name = name
        self.fields = fields
        self.context = context
    }
}

struct MessageSpec {
    enum Kind: String { case request, response, header, data }

    var name: String
    var kind: Kind
    var apiKey: Int?
    var validVersions: ClosedRange<Int>
    var flexibleVersions: Versions
    var fields: [FieldSpec]
    /// Nested and common structs, in the order they are defined.
    var structs: [StructSpec]
    var fileName: String

    /// "Produce" for ProduceRequest / ProduceResponse.
    var apiName: String {
        for suffix in ["Request", "Response"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }

    var flexibleStart: Int? { flexibleVersions.ranges.first?.lowerBound }
}

// MARK: Loading

/// Drops `//` comments (outside string literals) so the text is plain JSON.
func stripComments(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    var inString = false
    var escaped = false
    var chars = Array(text)
    var i = 0
    while i < chars.count {
        let c = chars[i]
        if inString {
            out.append(c)
            if escaped {
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                inString = false
            }
            i += 1
            continue
        }
        if c == "\"" {
            inString = true
            out.append(c)
            i += 1
        } else if c == "/", i + 1 < chars.count, chars[i + 1] == "/" {
            while i < chars.count, chars[i] != "\n" { i += 1 }
        } else {
            out.append(c)
            i += 1
        }
    }
    chars.removeAll()
    return out
}

func loadMessage(from url: URL) throws -> MessageSpec {
    let text = try String(contentsOf: url, encoding: .utf8)
    let json = try JSONSerialization.jsonObject(with: Data(stripComments(text).utf8))
    guard let root = json as? [String: Any] else { throw SchemaError("\(url.lastPathComponent): not an object") }
    return try MessageLoader(root: root, fileName: url.lastPathComponent).load()
}

private struct MessageLoader {
    let root: [String: Any]
    let fileName: String

    func load() throws -> MessageSpec {
        guard let name = root["name"] as? String,
              let kindText = root["type"] as? String,
              let kind = MessageSpec.Kind(rawValue: kindText),
              let validText = root["validVersions"] as? String,
              let fieldList = root["fields"] as? [[String: Any]]
        else { throw SchemaError("\(fileName): missing name, type, validVersions or fields") }
        guard let valid = try Versions(parsing: validText).hull else { throw SchemaError("\(fileName): no valid versions") }
        let flexible = try Versions(parsing: root["flexibleVersions"] as? String ?? "none")
        let apiKey = root["apiKey"] as? Int

        var registry = StructRegistry(fileName: fileName)
        // Common structs can be used anywhere in the message.
        let commons = root["commonStructs"] as? [[String: Any]] ?? []
        for common in commons {
            guard let commonName = common["name"] as? String else { throw SchemaError("\(fileName): common struct without a name") }
            registry.commonNames.insert(commonName)
        }
        for common in commons {
            let commonName = common["name"] as! String
            let spec = StructSpec(name: commonName, fields: [], context: valid)
            try registry.add(spec)
            spec.fields = try parseFields(common["fields"] as? [[String: Any]] ?? [], context: valid, path: commonName, registry: &registry)
        }
        let fields = try parseFields(fieldList, context: valid, path: name, registry: &registry)
        try registry.checkReferences()
        return MessageSpec(
            name: name, kind: kind, apiKey: apiKey, validVersions: valid, flexibleVersions: flexible,
            fields: fields, structs: registry.ordered, fileName: fileName)
    }

    func parseFields(_ list: [[String: Any]], context: ClosedRange<Int>, path: String, registry: inout StructRegistry) throws -> [FieldSpec] {
        var result: [FieldSpec] = []
        var tags: [Int: String] = [:]
        for raw in list {
            guard let name = raw["name"] as? String, let typeText = raw["type"] as? String else {
                throw SchemaError("\(fileName) \(path): field without name or type")
            }
            let where_ = "\(fileName) \(path).\(name)"
            guard let versionsText = raw["versions"] as? String else { throw SchemaError("\(where_): no versions") }
            let versions = try Versions(parsing: versionsText)
            let nullable = try Versions(parsing: raw["nullableVersions"] as? String ?? "none")
            let tagged = try Versions(parsing: raw["taggedVersions"] as? String ?? "none")
            let tag = raw["tag"] as? Int
            if (tag == nil) != tagged.isEmpty { throw SchemaError("\(where_): tag and taggedVersions must come together") }
            if let tag {
                if let other = tags[tag] { throw SchemaError("\(where_): tag \(tag) already used by \(other)") }
                tags[tag] = name
            }
            let flexOverride = try (raw["flexibleVersions"] as? String).map { try Versions(parsing: $0) }
            let ignorable = raw["ignorable"] as? Bool ?? false
            let defaultText: String?
            if let s = raw["default"] as? String {
                defaultText = s
            } else if let n = raw["default"] as? NSNumber {
                defaultText = n.stringValue
            } else {
                defaultText = nil
            }

            let type = try parseType(typeText, raw: raw, fieldVersions: versions, context: context, path: path, registry: &registry, where_: where_)
            if !nullable.isEmpty {
                switch type {
                case .string, .bytes, .records, .array, .structRef, .uuid: break
                default: throw SchemaError("\(where_): \(typeText) cannot be nullable")
                }
            }
            result.append(FieldSpec(
                name: name, type: type, versions: versions, nullableVersions: nullable, taggedVersions: tagged,
                tag: tag, ignorable: ignorable, defaultText: defaultText, flexibleOverride: flexOverride))
        }
        return result
    }

    func parseType(_ text: String, raw: [String: Any], fieldVersions: Versions, context: ClosedRange<Int>, path: String,
                   registry: inout StructRegistry, where_: String) throws -> FieldType {
        let isArray = text.hasPrefix("[]")
        let base = isArray ? String(text.dropFirst(2)) : text
        if let primitive = FieldType.primitive(base) {
            if raw["fields"] != nil { throw SchemaError("\(where_): a \(base) field cannot have fields") }
            if isArray, primitive == .records { throw SchemaError("\(where_): arrays of records are not supported") }
            return isArray ? .array(primitive) : primitive
        }
        guard let first = base.first, first.isUppercase else { throw SchemaError("\(where_): unknown type \(text)") }
        if let nested = raw["fields"] as? [[String: Any]] {
            // The struct appears only where its field does.
            let inner = fieldVersions.intersection(context).hull ?? context
            let spec = StructSpec(name: base, fields: [], context: inner)
            try registry.add(spec)
            spec.fields = try parseFields(nested, context: inner, path: "\(path).\(base)", registry: &registry)
        } else {
            registry.references.insert(base)
        }
        return isArray ? .array(.structRef(base)) : .structRef(base)
    }
}

private struct StructRegistry {
    let fileName: String
    var ordered: [StructSpec] = []
    var byName: [String: StructSpec] = [:]
    var commonNames: Set<String> = []
    var references: Set<String> = []

    mutating func add(_ spec: StructSpec) throws {
        if byName[spec.name] != nil { throw SchemaError("\(fileName): struct \(spec.name) is defined twice") }
        byName[spec.name] = spec
        ordered.append(spec)
    }

    func checkReferences() throws {
        for name in references where byName[name] == nil {
            throw SchemaError("\(fileName): struct \(name) is used but not defined")
        }
    }
}
