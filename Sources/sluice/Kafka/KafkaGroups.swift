import ArgumentParser
import KafkaClient
import KafkaProtocol
import NIOCore

struct KafkaGroups: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups", abstract: "List consumer groups, or describe one with its committed offsets and lag.")

    @OptionGroup var server: BootstrapOption
    @Flag(help: "List group ids.") var list = false
    @Flag(help: "Describe --group.") var describe = false
    @Option(help: "Group id.") var group: String?

    func validate() throws {
        guard list != describe else { throw ValidationError("give exactly one of --list, --describe") }
        if describe && group == nil { throw ValidationError("--group is required with --describe") }
    }

    func run() throws {
        let c = try KafkaConnection(bootstrap: server.bootstrap)
        if list {
            let resp: ListGroupsResponse = try c.send(ListGroupsRequest(), version: c.version(ListGroupsRequest.self, max: 4))
            guard resp.errorCode == 0 else { throw KafkaClientError(description: "ListGroups: \(kafkaErrorName(resp.errorCode))") }
            for g in resp.groups.sorted(by: { $0.groupId < $1.groupId }) { print(g.groupId) }
            return
        }
        let id = group!
        let dv = try c.version(DescribeGroupsRequest.self, max: 5)
        let d: DescribeGroupsResponse = try c.send(DescribeGroupsRequest(groups: [id]), version: dv)
        guard let g = d.groups.first, g.errorCode == 0 else {
            throw KafkaClientError(description: "group \(id): \(kafkaErrorName(d.groups.first?.errorCode ?? -1))")
        }
        // Committed offsets (v1-7: the single-group form; null topics = all).
        let ov = try c.version(OffsetFetchRequest.self, max: 7)
        var oreq = OffsetFetchRequest()
        oreq.groupId = id
        oreq.topics = nil
        let o: OffsetFetchResponse = try c.send(oreq, version: ov)
        // Log-end offsets for the lag.
        let lv = try c.version(ListOffsetsRequest.self, max: 5)
        var lreq = ListOffsetsRequest()
        lreq.replicaId = -1
        lreq.topics = o.topics.map { t in .init(name: t.name, partitions: t.partitions.map { .init(partitionIndex: $0.partitionIndex, timestamp: -1) }) }
        let ends: ListOffsetsResponse = try c.send(lreq, version: lv)
        var end: [String: Int64] = [:]
        for t in ends.topics { for p in t.partitions { end["\(t.name)/\(p.partitionIndex)"] = p.offset } }
        print("GROUP \(id)  STATE \(g.groupState)  MEMBERS \(g.members.count)")
        print("TOPIC\tPARTITION\tCURRENT-OFFSET\tLOG-END-OFFSET\tLAG")
        for t in o.topics.sorted(by: { $0.name < $1.name }) {
            for p in t.partitions.sorted(by: { $0.partitionIndex < $1.partitionIndex }) {
                let e = end["\(t.name)/\(p.partitionIndex)"] ?? -1
                let lag = p.committedOffset >= 0 && e >= 0 ? "\(e - p.committedOffset)" : "-"
                print("\(t.name)\t\(p.partitionIndex)\t\(p.committedOffset)\t\(e)\t\(lag)")
            }
        }
        for m in g.members { print("MEMBER \(m.memberId)  CLIENT \(m.clientId)") }
    }
}
