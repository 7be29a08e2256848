// Emits one Swift file per message: the message struct with its nested structs, each
// with properties, initializers, a decoder and an encoder.

import Foundation

struct MessageEmitter {
    let message: MessageSpec
    let structsByName: [String: StructSpec]

    init(message: MessageSpec) {
        self.message = message
        var byName: [String: StructSpec] = [:]
        for s in message.structs { byName[s.name] = s }
        self.structsByName = byName
    }

    func emit() throws -> String {
        let w = CodeWriter()
        w.line(generatedHeader)
        w.line("// Schema: \(message.fileName)")
        w.line()
        w.line("import NIOCore")
        w.line()
        let conformance: String
        switch message.kind {
        case .request: conformance = "KafkaRequest"
        case .response: conformance = "KafkaResponse"
        case .header: conformance = "KafkaMessage"
        case .data: conformance = "KafkaVersionPrefixedData"
        }
        var summary = "\(message.name): versions \(message.validVersions.lowerBound)-\(message.validVersions.upperBound)"
        if let api = message.apiKey { summary = "\(message.name) (API key \(api)), versions \(message.validVersions.lowerBound)-\(message.validVersions.upperBound)" }
        if let start = message.flexibleStart { summary += ", flexible from \(start)" } else { summary += ", never flexible" }
        w.line("/// \(summary).")
        try w.block("public struct \(message.name): \(conformance)") {
            if message.kind == .request {
                w.line("public typealias Response = \(message.apiName)Response")
            }
            if let api = message.apiKey {
                w.line("public static let apiKey: Int16 = \(api)")
            }
            w.line("public static let validVersions: ClosedRange<Int16> = \(message.validVersions.lowerBound)...\(message.validVersions.upperBound)")
            if let start = message.flexibleStart {
                w.line("public static let flexibleVersions: PartialRangeFrom<Int16>? = \(start)...")
            } else {
                w.line("public static let flexibleVersions: PartialRangeFrom<Int16>? = nil")
            }
            w.line()
            try emitBody(w, typeName: message.name, qualifiedName: message.name, fields: message.fields,
                         context: message.validVersions)
            for nested in message.structs {
                w.line()
                if reservedTypeNames.contains(nested.name) || nested.name == message.name {
                    throw SchemaError("\(message.fileName): struct name \(nested.name) is reserved")
                }
                w.line("/// Nested struct of \(message.name); on the wire in versions \(Versions(nested.context.clamped(to: message.validVersions))).")
                try w.block("public struct \(nested.name): KafkaStruct") {
                    try emitBody(w, typeName: nested.name, qualifiedName: "\(message.name).\(nested.name)",
                                 fields: nested.fields, context: nested.context)
                }
            }
        }
        return w.text
    }

    // MARK: Struct body

    private func emitBody(_ w: CodeWriter, typeName: String, qualifiedName: String, fields: [FieldSpec], context: ClosedRange<Int>) throws {
        var seen: Set<String> = []
        for f in fields {
            let prop = lowerCamel(f.name)
            let topLevel = qualifiedName == message.name
            if (topLevel && reservedPropertyNames.contains(prop)) || !seen.insert(prop).inserted {
                throw SchemaError("\(message.fileName): property name \(prop) of \(qualifiedName) clashes")
            }
        }
        // Properties
        for f in fields {
            w.line("/// \(describe(f))")
            w.line("public var \(ident(lowerCamel(f.name))): \(swiftType(f)) = \(try defaultExpr(f))")
        }
        if !fields.isEmpty { w.line() }

        // Initializers
        w.line("public init() {}")
        if !fields.isEmpty {
            w.line()
            w.line("public init(")
            try w.indent {
                for (i, f) in fields.enumerated() {
                    let comma = i == fields.count - 1 ? "" : ","
                    w.line("\(ident(lowerCamel(f.name))): \(swiftType(f)) = \(try defaultExpr(f))\(comma)")
                }
            }
            w.block(")") {
                for f in fields {
                    let p = ident(lowerCamel(f.name))
                    w.line("self.\(p) = \(p)")
                }
            }
        }
        w.line()
        emitDecoder(w, qualifiedName: qualifiedName, fields: fields, context: context)
        w.line()
        try emitEncoder(w, qualifiedName: qualifiedName, fields: fields, context: context)
    }

    /// Versions in which the message is flexible, as seen from `context`.
    private func flexibility(in context: ClosedRange<Int>) -> String {
        versionCondition(message.flexibleVersions, in: context)
    }

    private func taggedFields(_ fields: [FieldSpec], context: ClosedRange<Int>) -> [FieldSpec] {
        fields.filter { $0.tag != nil && !$0.taggedVersions.intersection(context).isEmpty }
            .sorted { $0.tag! < $1.tag! }
    }

    // MARK: Decoder

    private func emitDecoder(_ w: CodeWriter, qualifiedName: String, fields: [FieldSpec], context: ClosedRange<Int>) {
        w.block("public init(from buffer: inout ByteBuffer, version: Int16, flexible: Bool) throws") {
            for f in fields {
                let inline = f.versions.subtracting(f.taggedVersions).intersection(context)
                if inline.isEmpty { continue }
                let present = f.versions.intersection(context).hull!
                let read = readExpression(f, buffer: "buffer", flexible: flexibleExpr(f, present: present),
                                          nullable: versionCondition(f.nullableVersions, in: present),
                                          path: "\(qualifiedName).\(lowerCamel(f.name))")
                let assign = "self.\(ident(lowerCamel(f.name))) = \(read)"
                let cond = versionCondition(inline, in: context)
                if cond == "true" {
                    w.line(assign)
                } else {
                    w.block("if \(cond)") { w.line(assign) }
                }
            }
            let flex = flexibility(in: context)
            if flex == "false" { return }
            let tagged = taggedFields(fields, context: context)
            let emitSection = {
                if tagged.isEmpty {
                    w.line("try buffer.kafkaSkipTaggedFields(\(swiftStringLiteral(qualifiedName)))")
                    return
                }
                w.line("let taggedCount = try buffer.kafkaReadTaggedFieldCount(\(swiftStringLiteral(qualifiedName)))")
                w.block("for _ in 0..<taggedCount") {
                    w.line("let (tag, data) = try buffer.kafkaReadTaggedField(\(swiftStringLiteral(qualifiedName)))")
                    w.line("var field = data")
                    w.line("switch tag {")
                    do {
                        for f in tagged {
                            let taggedHere = f.taggedVersions.intersection(context)
                            let present = taggedHere.hull!
                            let cond = versionCondition(taggedHere, in: context)
                            w.line(cond == "true" ? "case \(f.tag!):" : "case \(f.tag!) where \(cond):")
                            w.indent {
                                let read = readExpression(f, buffer: "field", flexible: "true",
                                                          nullable: versionCondition(f.nullableVersions, in: present),
                                                          path: "\(qualifiedName).\(lowerCamel(f.name))")
                                w.line("self.\(ident(lowerCamel(f.name))) = \(read)")
                            }
                        }
                        w.line("default:")
                        w.indent { w.line("break  // unknown tag: skipped") }
                    }
                    w.line("}")
                }
            }
            if flex == "true" {
                emitSection()
            } else {
                w.block("if flexible") { emitSection() }
            }
        }
    }

    // MARK: Encoder

    private func emitEncoder(_ w: CodeWriter, qualifiedName: String, fields: [FieldSpec], context: ClosedRange<Int>) throws {
        try w.block("public func write(to buffer: inout ByteBuffer, version: Int16, flexible: Bool) throws") {
            for f in fields {
                let prop = "self.\(ident(lowerCamel(f.name)))"
                let path = "\(qualifiedName).\(lowerCamel(f.name))"
                let inline = f.versions.subtracting(f.taggedVersions).intersection(context)
                let absent = Versions(context).subtracting(f.versions)
                let absentCheck: String? = (f.ignorable || absent.isEmpty)
                    ? nil : and(versionCondition(absent, in: context), "\(prop) != \(try defaultExpr(f))")
                let throwLine = "throw KafkaEncodeError(\(swiftStringLiteral(path)), .fieldNotInVersion(version))"
                if inline.isEmpty {
                    if let absentCheck { w.block("if \(absentCheck)") { w.line(throwLine) } }
                    continue
                }
                let present = f.versions.intersection(context).hull!
                let (write, _) = writeStatement(f, buffer: "buffer", value: prop, flexible: flexibleExpr(f, present: present),
                                                nullable: versionCondition(f.nullableVersions, in: present), path: path)
                let cond = versionCondition(inline, in: context)
                if cond == "true" {
                    w.line(write)
                } else if let absentCheck {
                    // Without tagged versions the else branch is exactly the absent versions.
                    let elseCheck = f.taggedVersions.intersection(context).isEmpty
                        ? "\(prop) != \(try defaultExpr(f))" : absentCheck
                    w.line("if \(cond) {")
                    w.indent { w.line(write) }
                    w.line("} else if \(elseCheck) {")
                    w.indent { w.line(throwLine) }
                    w.line("}")
                } else {
                    w.block("if \(cond)") { w.line(write) }
                }
            }
            let flex = flexibility(in: context)
            if flex == "false" { return }
            let tagged = taggedFields(fields, context: context)
            let emitSection = {
                if tagged.isEmpty {
                    w.line("buffer.kafkaWriteUnsignedVarint(0)  // no tagged fields")
                    return
                }
                w.line("var taggedFields = KafkaTaggedFieldWriter()")
                for f in tagged {
                    let taggedHere = f.taggedVersions.intersection(context)
                    let present = taggedHere.hull!
                    let prop = "self.\(ident(lowerCamel(f.name)))"
                    let cond = and(versionCondition(taggedHere, in: context), "\(prop) != \(try! defaultExpr(f))")
                    let (write, throwing) = writeStatement(
                        f, buffer: "out", value: prop, flexible: "true",
                        nullable: versionCondition(f.nullableVersions, in: present),
                        path: "\(qualifiedName).\(lowerCamel(f.name))")
                    w.block("if \(cond)") {
                        w.line("\(throwing ? "try " : "")taggedFields.add(\(f.tag!)) { out in \(write) }")
                    }
                }
                w.line("taggedFields.write(to: &buffer)")
            }
            if flex == "true" {
                emitSection()
            } else {
                w.block("if flexible") { emitSection() }
            }
        }
    }

    // MARK: Types, defaults, expressions

    private func flexibleExpr(_ f: FieldSpec, present: ClosedRange<Int>) -> String {
        guard let override = f.flexibleOverride else { return "flexible" }
        return versionCondition(override.intersection(message.flexibleVersions), in: present)
    }

    func swiftType(_ f: FieldSpec) -> String {
        let base = swiftBaseType(f.type)
        if f.type == .records { return "ByteBuffer?" }
        return f.isOptional ? base + "?" : base
    }

    func swiftBaseType(_ t: FieldType) -> String {
        switch t {
        case .bool: return "Bool"
        case .int8: return "Int8"
        case .int16: return "Int16"
        case .uint16: return "UInt16"
        case .int32: return "Int32"
        case .uint32: return "UInt32"
        case .int64: return "Int64"
        case .float64: return "Double"
        case .string: return "String"
        case .bytes: return "[UInt8]"
        case .records: return "ByteBuffer"
        case .uuid: return "KafkaUUID"
        case .array(let e): return "[\(swiftBaseType(e))]"
        case .structRef(let n): return n
        }
    }

    func schemaTypeText(_ t: FieldType) -> String {
        switch t {
        case .array(let e): return "[]" + schemaTypeText(e)
        case .structRef(let n): return n
        case .float64: return "float64"
        default: return "\(t)"
        }
    }

    private func describe(_ f: FieldSpec) -> String {
        var parts = ["\(f.name): \(schemaTypeText(f.type))", "versions \(f.versions)"]
        if !f.nullableVersions.isEmpty { parts.append("nullable \(f.nullableVersions)") }
        if let tag = f.tag { parts.append("tag \(tag) in \(f.taggedVersions)") }
        if let d = f.defaultText { parts.append("default \(d.isEmpty ? "\"\"" : d)") }
        if f.ignorable { parts.append("ignorable") }
        if let o = f.flexibleOverride { parts.append("flexible encoding \(o)") }
        return parts.joined(separator: "; ")
    }

    /// The schema default as a Swift expression (type defaults when none is given).
    func defaultExpr(_ f: FieldSpec) throws -> String {
        let d = f.defaultText
        let where_ = "\(message.fileName) field \(f.name)"
        if d == "null" {
            guard f.isOptional else { throw SchemaError("\(where_): default null on a non-nullable field") }
            return "nil"
        }
        switch f.type {
        case .bool:
            guard let d else { return "false" }
            guard d == "true" || d == "false" else { throw SchemaError("\(where_): bad bool default \(d)") }
            return d
        case .int8, .int16, .uint16, .int32, .uint32, .int64:
            guard let d else { return "0" }
            guard let value = parseInteger(d), f.type.integerBounds!.contains(value) else {
                throw SchemaError("\(where_): bad integer default \(d)")
            }
            return String(value)
        case .float64:
            guard let d else { return "0.0" }
            guard let value = Double(d) else { throw SchemaError("\(where_): bad float default \(d)") }
            return "\(value)"
        case .string:
            return swiftStringLiteral(d ?? "")
        case .bytes:
            if let d, !d.isEmpty { throw SchemaError("\(where_): bytes defaults are not supported (\(d))") }
            return "[]"
        case .records:
            return "nil"
        case .uuid:
            if let d, !d.isEmpty { throw SchemaError("\(where_): uuid defaults are not supported (\(d))") }
            return "KafkaUUID.zero"
        case .array:
            if let d, !d.isEmpty { throw SchemaError("\(where_): array defaults are not supported (\(d))") }
            return "[]"
        case .structRef(let n):
            if let d, !d.isEmpty { throw SchemaError("\(where_): struct defaults are not supported (\(d))") }
            return "\(n)()"
        }
    }

    /// Decimal, "0x" hex or leading-zero octal, optionally negative.
    private func parseInteger(_ text: String) -> Int64? {
        var t = text.trimmingCharacters(in: .whitespaces)
        var negative = false
        if t.hasPrefix("-") {
            negative = true
            t.removeFirst()
        }
        let magnitude: UInt64?
        if t.lowercased().hasPrefix("0x") {
            magnitude = UInt64(t.dropFirst(2), radix: 16)
        } else if t.count > 1, t.hasPrefix("0") {
            magnitude = UInt64(t.dropFirst(), radix: 8)
        } else {
            magnitude = UInt64(t)
        }
        guard let m = magnitude else { return nil }
        if negative {
            guard m <= UInt64(Int64.max) + 1 else { return nil }
            return m == UInt64(Int64.max) + 1 ? Int64.min : -Int64(m)
        }
        guard m <= UInt64(Int64.max) else { return nil }
        return Int64(m)
    }

    /// Expression reading one value of field `f` from `buffer` (a variable name or `$0`).
    private func readExpression(_ f: FieldSpec, buffer: String, flexible: String, nullable: String, path: String) -> String {
        let p = swiftStringLiteral(path)
        switch f.type {
        case .string:
            return f.isOptional
                ? "try \(buffer).kafkaReadNullableString(\(p), flexible: \(flexible), nullable: \(nullable))"
                : "try \(buffer).kafkaReadString(\(p), flexible: \(flexible))"
        case .bytes:
            return f.isOptional
                ? "try \(buffer).kafkaReadNullableBytes(\(p), flexible: \(flexible), nullable: \(nullable))"
                : "try \(buffer).kafkaReadBytes(\(p), flexible: \(flexible))"
        case .records:
            return "try \(buffer).kafkaReadRecords(\(p), flexible: \(flexible), nullable: \(nullable))"
        case .array(let element):
            let readElement = elementRead(element, buffer: "$0", flexible: flexible, path: p)
            return f.isOptional
                ? "try \(buffer).kafkaReadNullableArray(\(p), flexible: \(flexible), nullable: \(nullable)) { \(readElement) }"
                : "try \(buffer).kafkaReadArray(\(p), flexible: \(flexible)) { \(readElement) }"
        case .structRef(let n):
            return f.isOptional
                ? "try \(buffer).kafkaReadNullableStruct(\(p), nullable: \(nullable)) { try \(n)(from: &$0, version: version, flexible: flexible) }"
                : "try \(n)(from: &\(buffer), version: version, flexible: flexible)"
        default:
            return elementRead(f.type, buffer: buffer, flexible: flexible, path: p)
        }
    }

    /// Reading a non-null value of type `t` (scalars and array elements).
    private func elementRead(_ t: FieldType, buffer: String, flexible: String, path p: String) -> String {
        switch t {
        case .bool: return "try \(buffer).kafkaReadBool(\(p))"
        case .int8: return "try \(buffer).kafkaReadInt8(\(p))"
        case .int16: return "try \(buffer).kafkaReadInt16(\(p))"
        case .uint16: return "try \(buffer).kafkaReadUInt16(\(p))"
        case .int32: return "try \(buffer).kafkaReadInt32(\(p))"
        case .uint32: return "try \(buffer).kafkaReadUInt32(\(p))"
        case .int64: return "try \(buffer).kafkaReadInt64(\(p))"
        case .float64: return "try \(buffer).kafkaReadFloat64(\(p))"
        case .uuid: return "try \(buffer).kafkaReadUUID(\(p))"
        case .string: return "try \(buffer).kafkaReadString(\(p), flexible: \(flexible))"
        case .bytes: return "try \(buffer).kafkaReadBytes(\(p), flexible: \(flexible))"
        case .structRef(let n): return "try \(n)(from: &\(buffer), version: version, flexible: flexible)"
        case .records, .array: fatalError("nested arrays and arrays of records are rejected by the loader")
        }
    }

    /// Statement writing field `f` (held in `value`) to `buffer`, and whether it can throw.
    private func writeStatement(_ f: FieldSpec, buffer: String, value: String, flexible: String, nullable: String, path: String) -> (String, Bool) {
        let p = swiftStringLiteral(path)
        switch f.type {
        case .string:
            return f.isOptional
                ? ("try \(buffer).kafkaWriteNullableString(\(value), \(p), flexible: \(flexible), nullable: \(nullable))", true)
                : ("try \(buffer).kafkaWriteString(\(value), \(p), flexible: \(flexible))", true)
        case .bytes:
            return f.isOptional
                ? ("try \(buffer).kafkaWriteNullableBytes(\(value), \(p), flexible: \(flexible), nullable: \(nullable))", true)
                : ("try \(buffer).kafkaWriteBytes(\(value), \(p), flexible: \(flexible))", true)
        case .records:
            return ("try \(buffer).kafkaWriteRecords(\(value), \(p), flexible: \(flexible), nullable: \(nullable))", true)
        case .array(let element):
            let (writeElement, _) = elementWrite(element, buffer: "$0", value: "$1", flexible: flexible, path: p)
            return f.isOptional
                ? ("try \(buffer).kafkaWriteNullableArray(\(value), \(p), flexible: \(flexible), nullable: \(nullable)) { \(writeElement) }", true)
                : ("try \(buffer).kafkaWriteArray(\(value), \(p), flexible: \(flexible)) { \(writeElement) }", true)
        case .structRef:
            return f.isOptional
                ? ("try \(buffer).kafkaWriteNullableStruct(\(value), \(p), nullable: \(nullable)) { try $1.write(to: &$0, version: version, flexible: flexible) }", true)
                : ("try \(value).write(to: &\(buffer), version: version, flexible: flexible)", true)
        default:
            return elementWrite(f.type, buffer: buffer, value: value, flexible: flexible, path: p)
        }
    }

    private func elementWrite(_ t: FieldType, buffer: String, value: String, flexible: String, path p: String) -> (String, Bool) {
        switch t {
        case .bool: return ("\(buffer).kafkaWriteBool(\(value))", false)
        case .int8: return ("\(buffer).kafkaWriteInt8(\(value))", false)
        case .int16: return ("\(buffer).kafkaWriteInt16(\(value))", false)
        case .uint16: return ("\(buffer).kafkaWriteUInt16(\(value))", false)
        case .int32: return ("\(buffer).kafkaWriteInt32(\(value))", false)
        case .uint32: return ("\(buffer).kafkaWriteUInt32(\(value))", false)
        case .int64: return ("\(buffer).kafkaWriteInt64(\(value))", false)
        case .float64: return ("\(buffer).kafkaWriteFloat64(\(value))", false)
        case .uuid: return ("\(buffer).kafkaWriteUUID(\(value))", false)
        case .string: return ("try \(buffer).kafkaWriteString(\(value), \(p), flexible: \(flexible))", true)
        case .bytes: return ("try \(buffer).kafkaWriteBytes(\(value), \(p), flexible: \(flexible))", true)
        case .structRef: return ("try \(value).write(to: &\(buffer), version: version, flexible: flexible)", true)
        case .records, .array: fatalError("nested arrays and arrays of records are rejected by the loader")
        }
    }
}
