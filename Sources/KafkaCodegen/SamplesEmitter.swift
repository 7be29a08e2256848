// Emits test fixtures: for every message and nested struct a `sample(version:nulls:)`
// that sets each field present in that version to a non-default value (or, with
// `nulls`, nullable fields to nil where that version allows null).

import Foundation

struct SamplesEmitter {
    let messages: [MessageSpec]
    private var counter = 0

    init(messages: [MessageSpec]) {
        self.messages = messages
    }

    mutating func emit() throws -> String {
        let w = CodeWriter()
        w.line(generatedHeader.replacingOccurrences(
            of: "Plugins/Common/KafkaProtocol/Generated",
            with: "Plugins/Common/KafkaProtocol/Generated --samples Tests/KafkaProtocolTests/Generated/Samples.swift"))
        w.line()
        w.line("import KafkaProtocol")
        w.line("import NIOCore")
        w.line()
        w.line("let allSampleMessages: [any SampleMessage.Type] = [")
        w.indent {
            for m in messages { w.line("\(m.name).self,") }
        }
        w.line("]")
        for m in messages {
            let emitter = MessageEmitter(message: m)
            w.line()
            try w.block("extension \(m.name): SampleMessage") {
                try emitSample(w, emitter: emitter, message: m, typeName: m.name, fields: m.fields, context: m.validVersions)
            }
            for s in m.structs {
                w.line()
                try w.block("extension \(m.name).\(s.name)") {
                    try emitSample(w, emitter: emitter, message: m, typeName: "\(m.name).\(s.name)", fields: s.fields, context: s.context)
                }
            }
        }
        return w.text
    }

    private mutating func emitSample(_ w: CodeWriter, emitter: MessageEmitter, message: MessageSpec, typeName: String,
                                     fields: [FieldSpec], context: ClosedRange<Int>) throws {
        try w.block("static func sample(version: Int16, nulls: Bool) -> \(typeName)") {
            w.line("var value = \(typeName)()")
            for f in fields {
                let presentSet = f.versions.intersection(context)
                if presentSet.isEmpty { continue }
                let present = presentSet.hull!
                counter += 1
                var expr = try sampleValue(f.type, field: f, message: message, emitter: emitter)
                let nullable = versionCondition(f.nullableVersions, in: present)
                if f.isOptional, nullable != "false" {
                    expr = nullable == "true" ? "nulls ? nil : \(expr)" : "nulls && \(nullable.contains("||") ? "(\(nullable))" : nullable) ? nil : \(expr)"
                }
                let assign = "value.\(ident(lowerCamel(f.name))) = \(expr)"
                let cond = versionCondition(presentSet, in: context)
                if cond == "true" {
                    w.line(assign)
                } else {
                    w.block("if \(cond)") { w.line(assign) }
                }
            }
            w.line("return value")
        }
    }

    private func sampleValue(_ t: FieldType, field f: FieldSpec, message: MessageSpec, emitter: MessageEmitter) throws -> String {
        let n = counter
        switch t {
        case .bool:
            return (try emitter.defaultExpr(f)) == "true" ? "false" : "true"
        case .int8, .int16, .uint16, .int32, .uint32, .int64:
            let base: Int64
            switch t {
            case .int8: base = 1 + Int64(n % 100)
            case .int16, .uint16: base = 100 + Int64(n)
            case .int32, .uint32: base = 100_000 + Int64(n)
            default: base = 10_000_000_000 + Int64(n)
            }
            let def = f.type == t ? Int64(try emitter.defaultExpr(f)) : nil
            return String(base == def ? base + 1 : base)
        case .float64:
            return "\(Double(n) + 0.5)"
        case .string:
            return swiftStringLiteral("\(f.name)-\(n)")
        case .bytes:
            return "[1, 2, \(n % 256)]"
        case .records:
            return "ByteBuffer(bytes: [0, 1, 2, 3, \(n % 256)])"
        case .uuid:
            return "KafkaUUID(high: \(n), low: \(n * 7 + 1))"
        case .array(let element):
            switch element {
            case .structRef(let s):
                return "[\(message.name).\(s).sample(version: version, nulls: nulls), \(message.name).\(s).sample(version: version, nulls: !nulls)]"
            default:
                let a = try sampleValue(element, field: f, message: message, emitter: emitter)
                let b = element.isInteger ? String(Int64(a)! + 1) : try sampleValue(element, field: f, message: message, emitter: emitter)
                return "[\(a), \(b)]"
            }
        case .structRef(let s):
            return "\(message.name).\(s).sample(version: version, nulls: nulls)"
        }
    }
}
