import SluiceSDK

/// Replaces every ASCII digit in an event body with a mask character and
/// records how many it replaced in a header.
final class Redact: Interceptor {
    let mask: UInt8
    let header: String
    private var scratch: [UInt8] = []

    init(context: ComponentContext, properties: Properties) throws {
        let m = properties.string("mask", default: "#")
        guard m.utf8.count == 1 else { throw SluiceError.config("property 'mask': must be one ASCII character, got '\(m)'") }
        mask = m.utf8.first!
        header = properties.string("header", default: "redacted")
    }

    func intercept(_ batch: MutableBatch) throws {
        for i in batch.indices {
            let body = batch[i].body
            scratch.removeAll(keepingCapacity: true)
            var replaced = 0
            for b in body {
                if b >= 0x30 && b <= 0x39 {
                    scratch.append(mask)
                    replaced += 1
                } else {
                    scratch.append(b)
                }
            }
            if replaced > 0 {
                scratch.withUnsafeBytes { batch.setBody(i, $0) }
            }
            batch.setHeader(i, header, String(replaced))
        }
    }
}

// The plugin's one exported symbol.
@_cdecl("sluice_plugin_entry")
public func sluicePluginEntry() -> UnsafeRawPointer {
    Plugin.export(name: "example-swift-redact", version: "1.0.0", components: [
        .interceptor(Redact.self, type: "redact", aliases: ["com.example.RedactInterceptor$Builder"],
                     description: "Masks digits in event bodies (Swift example)",
                     keys: [
                         ConfigKey("mask", .string, default: "#", "replacement character"),
                         ConfigKey("header", .string, default: "redacted", "header that receives the count"),
                     ]),
    ])
}
