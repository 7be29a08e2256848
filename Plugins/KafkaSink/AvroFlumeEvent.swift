import SluiceSDK

/// Flume's `AvroFlumeEvent { map<string> headers; bytes body; }` in Avro's
/// binary encoding, without a container or schema (what `useFlumeEventFormat`
/// puts in the record value, and what Flume's Kafka source and channel read).
///
/// The map is one block: its count, then each key and value (length-prefixed
/// UTF-8), then a zero count; an empty map is just the zero. The body is its
/// length and its bytes. Headers keep the event's order (Flume's follows a
/// Java HashMap); readers do not depend on the order.
enum AvroFlumeEvent {
    static func encode(_ event: Event, into out: ScratchBuffer) {
        out.removeAll()
        let n = event.headerCount
        if n > 0 {
            out.appendAvroLong(Int64(n))
            for i in 0..<n {
                let (k, v) = event.header(at: i)
                out.appendAvroLong(Int64(k.count))
                out.append(k)
                out.appendAvroLong(Int64(v.count))
                out.append(v)
            }
        }
        out.appendAvroLong(0)
        let body = event.body
        out.appendAvroLong(Int64(body.count))
        out.append(body)
    }
}
