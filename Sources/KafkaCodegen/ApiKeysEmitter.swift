// Emits ApiKeys.swift: the API key enum with each API's versions, and enums holding
// any request or response body for dispatch.

import Foundation

struct ApiEntry {
    var name: String  // "Produce"
    var key: Int
    var request: MessageSpec
    var response: MessageSpec

    var caseName: String { ident(lowerCamel(name)) }
}

func makeApiEntries(_ messages: [MessageSpec]) throws -> [ApiEntry] {
    var requests: [String: MessageSpec] = [:]
    var responses: [String: MessageSpec] = [:]
    for m in messages {
        switch m.kind {
        case .request: requests[m.apiName] = m
        case .response: responses[m.apiName] = m
        default: break
        }
    }
    var entries: [ApiEntry] = []
    for (name, request) in requests {
        guard let response = responses[name] else { throw SchemaError("\(name): request without response") }
        guard let key = request.apiKey, response.apiKey == key else { throw SchemaError("\(name): api keys differ") }
        guard request.validVersions == response.validVersions else {
            throw SchemaError("\(name): request and response valid versions differ")
        }
        guard request.flexibleVersions == response.flexibleVersions else {
            throw SchemaError("\(name): request and response flexible versions differ")
        }
        entries.append(ApiEntry(name: name, key: key, request: request, response: response))
    }
    for name in responses.keys where requests[name] == nil { throw SchemaError("\(name): response without request") }
    return entries.sorted { $0.key < $1.key }
}

func emitApiKeys(_ entries: [ApiEntry]) -> String {
    let w = CodeWriter()
    w.line(generatedHeader)
    w.line()
    w.line("import NIOCore")
    w.line()
    w.line("/// The APIs this module has message types for, with the versions it can encode and decode.")
    w.block("public enum KafkaApiKey: Int16, CaseIterable, Sendable") {
        for e in entries { w.line("case \(e.caseName) = \(e.key)") }
        w.line()
        w.line("/// The API's name as Kafka spells it (\"Produce\").")
        w.block("public var name: String") {
            w.switchBlock("self") {
                for e in entries { w.line("case .\(e.caseName): return \(swiftStringLiteral(e.name))") }
            }
        }
        w.line()
        w.line("/// Versions of both request and response that can be encoded and decoded.")
        w.block("public var validVersions: ClosedRange<Int16>") {
            w.switchBlock("self") {
                for e in entries {
                    w.line("case .\(e.caseName): return \(e.request.validVersions.lowerBound)...\(e.request.validVersions.upperBound)")
                }
            }
        }
        w.line()
        w.line("/// From this version on, request and response use the flexible encoding; nil if never.")
        w.block("public var flexibleVersions: PartialRangeFrom<Int16>?") {
            w.switchBlock("self") {
                for e in entries {
                    if let start = e.request.flexibleStart {
                        w.line("case .\(e.caseName): return \(start)...")
                    } else {
                        w.line("case .\(e.caseName): return nil")
                    }
                }
            }
        }
        w.line()
        w.block("public var requestType: any KafkaRequest.Type") {
            w.switchBlock("self") {
                for e in entries { w.line("case .\(e.caseName): return \(e.request.name).self") }
            }
        }
        w.line()
        w.block("public var responseType: any KafkaResponse.Type") {
            w.switchBlock("self") {
                for e in entries { w.line("case .\(e.caseName): return \(e.response.name).self") }
            }
        }
    }
    for (kind, suffix) in [("Request", "request"), ("Response", "response")] {
        w.line()
        w.line("/// Any \(suffix) body, for dispatching on the API.")
        w.block("public enum Kafka\(kind)Body: Equatable, Sendable") {
            for e in entries { w.line("case \(e.caseName)(\(e.name)\(kind))") }
            w.line()
            w.line("/// Decodes a \(suffix) body of `apiKey` at `version` (throws for unsupported versions).")
            w.block("public init(apiKey: KafkaApiKey, version: Int16, from buffer: inout ByteBuffer) throws") {
                w.switchBlock("apiKey") {
                    for e in entries {
                        w.line("case .\(e.caseName): self = .\(e.caseName)(try \(e.name)\(kind)(from: &buffer, version: version))")
                    }
                }
            }
            w.line()
            w.block("public var apiKey: KafkaApiKey") {
                w.switchBlock("self") {
                    for e in entries { w.line("case .\(e.caseName): return .\(e.caseName)") }
                }
            }
            w.line()
            w.line("/// The body as an existential, e.g. to write it.")
            w.block("public var message: any Kafka\(kind)") {
                w.switchBlock("self") {
                    for e in entries { w.line("case .\(e.caseName)(let m): return m") }
                }
            }
        }
    }
    return w.text
}
