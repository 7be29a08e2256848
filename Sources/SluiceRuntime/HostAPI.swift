import Logging
import SluiceABI
#if canImport(Glibc)
import Glibc
#endif

/// The table of host services handed to every component. Each entry is a
/// thin thunk onto ComponentHandle / HostBatch / ChannelProcessor.
enum HostAPI {
    /// How long a sink's take waits on an empty channel before returning.
    static let takeWaitNanos: UInt64 = 100_000_000

    static let table: UnsafePointer<sluice_host_api> = {
        let p = UnsafeMutablePointer<sluice_host_api>.allocate(capacity: 1)
        var api = sluice_host_api()
        api.struct_size = UInt32(MemoryLayout<sluice_host_api>.size)
        api.abi_major = UInt16(SLUICE_ABI_MAJOR)
        api.abi_minor = UInt16(SLUICE_ABI_MINOR)
        api.log = { c, level, msg, len in
            let h = ComponentHandle.from(c)
            let text = msg.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: len), as: UTF8.self) } ?? ""
            let l: Logger.Level
            switch level {
            case SLUICE_LOG_TRACE: l = .trace
            case SLUICE_LOG_DEBUG: l = .debug
            case SLUICE_LOG_INFO: l = .info
            case SLUICE_LOG_WARN: l = .warning
            default: l = .error
            }
            h.logger.log(level: l, "\(text)")
        }
        api.metric = { c, name, kind in
            let h = ComponentHandle.from(c)
            guard let name else { return nil }
            let cell = h.metrics.counter(String(cString: name))
            return OpaquePointer(Unmanaged.passUnretained(cell).toOpaque())
        }
        api.metric_add = { m, delta in
            guard let m else { return }
            Unmanaged<MetricCell>.fromOpaque(UnsafeRawPointer(m)).takeUnretainedValue().add(delta)
        }
        api.metric_set = { m, value in
            guard let m else { return }
            Unmanaged<MetricCell>.fromOpaque(UnsafeRawPointer(m)).takeUnretainedValue().set(value)
        }
        api.batch_new = { _, hint in
            let b = HostBatch(capacity: hint)
            _ = Unmanaged.passRetained(b)
            return b.raw
        }
        api.batch_free = { raw in
            guard let raw else { return }
            Unmanaged<HostBatch>.fromOpaque(raw.pointee.host_private!).release()
        }
        api.batch_clear = { raw in
            guard let raw else { return }
            HostBatch.from(raw).clear()
        }
        api.batch_append = { raw, body, len, headers, n in
            guard let raw else { return sluice_status(SLUICE_ERR_STATE) }
            return HostBatch.from(raw).append(body: body, length: len, headers: headers, headerCount: n)
        }
        api.event_set_header = { raw, i, k, kl, v, vl in
            guard let raw else { return sluice_status(SLUICE_ERR_STATE) }
            return HostBatch.from(raw).setHeader(i, key: k, keyLength: kl, value: v, valueLength: vl)
        }
        api.event_remove_header = { raw, i, k, kl in
            guard let raw else { return sluice_status(SLUICE_ERR_STATE) }
            return HostBatch.from(raw).removeHeader(i, key: k, keyLength: kl)
        }
        api.event_set_body = { raw, i, b, l in
            guard let raw else { return sluice_status(SLUICE_ERR_STATE) }
            return HostBatch.from(raw).setBody(i, body: b, length: l)
        }
        api.source_submit = { c, raw, err in
            let h = ComponentHandle.from(c)
            guard let raw, let p = h.processor else {
                writeError("source_submit: component \(h.name) is not a started source", err)
                return sluice_status(SLUICE_ERR_STATE)
            }
            return p.submit(HostBatch.from(raw), err)
        }
        api.sink_take = { c, max, out, err in
            let h = ComponentHandle.from(c)
            do {
                out?.pointee = try h.take(max: max, waitNanos: takeWaitNanos)
                return out?.pointee?.pointee.count == 0 ? sluice_status(SLUICE_BACKOFF) : sluice_status(SLUICE_OK)
            } catch {
                h.channelReadFail.add(1)
                writeError("\(error)", err)
                return sluice_status(SLUICE_ERR_STATE)
            }
        }
        api.sink_commit = { c, err in
            do {
                try ComponentHandle.from(c).commit()
                return sluice_status(SLUICE_OK)
            } catch {
                writeError("\(error); the events were returned to the channel", err)
                return sluice_status(SLUICE_ERR_IO)
            }
        }
        api.sink_rollback = { c in
            ComponentHandle.from(c).rollback()
        }
        api.is_stopping = { c in ComponentHandle.from(c).isStopping ? 1 : 0 }
        api.component_name = { c in UnsafePointer(ComponentHandle.from(c).nameC) }
        api.agent_name = { c in UnsafePointer(ComponentHandle.from(c).agentC) }
        p.initialize(to: api)
        return UnsafePointer(p)
    }()
}

func writeError(_ message: String, _ err: UnsafeMutablePointer<sluice_error>?) {
    guard let err else { return }
    withUnsafeMutableBytes(of: &err.pointee.message) { raw in
        let bytes = Array(message.utf8.prefix(raw.count - 1))
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
}

func readError(_ err: inout sluice_error) -> String {
    withUnsafeBytes(of: &err.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}
