import KafkaProtocol
import NIOCore

/// The group coordinator APIs: this broker coordinates every group.
extension RequestHandler {
    func findCoordinator(_ r: FindCoordinatorRequest, version: Int16) -> FindCoordinatorResponse {
        var resp = FindCoordinatorResponse()
        let node = broker.config.brokerID, host = broker.config.advertisedHost, port = Int32(broker.config.advertisedPort)
        let code: Int16 = r.keyType == 0 ? 0 : KafkaErrorCode.coordinatorNotAvailable
        if version >= 4 {
            resp.coordinators = r.coordinatorKeys.map { k in
                var c = FindCoordinatorResponse.Coordinator()
                c.key = k
                c.errorCode = code
                c.errorMessage = nil
                if code == 0 { c.nodeId = node; c.host = host; c.port = port } else { c.nodeId = -1; c.port = -1 }
                return c
            }
        } else {
            resp.errorCode = code
            if version >= 1 { resp.errorMessage = nil }
            if code == 0 { resp.nodeId = node; resp.host = host; resp.port = port } else { resp.nodeId = -1; resp.port = -1 }
        }
        return resp
    }

    func heartbeat(_ r: HeartbeatRequest) -> HeartbeatResponse {
        HeartbeatResponse(errorCode: broker.groups.heartbeat(r))
    }

    func leaveGroup(_ r: LeaveGroupRequest, version: Int16) -> LeaveGroupResponse {
        var resp = LeaveGroupResponse()
        if version >= 3 {
            let codes = broker.groups.leave(group: r.groupId, members: r.members.map { $0.memberId })
            resp.members = zip(r.members, codes).map { m, c in
                var x = LeaveGroupResponse.MemberResponse()
                x.memberId = m.memberId
                x.groupInstanceId = m.groupInstanceId
                x.errorCode = c
                return x
            }
        } else {
            resp.errorCode = broker.groups.leave(group: r.groupId, members: [r.memberId]).first ?? 0
        }
        return resp
    }

    func offsetCommit(_ r: OffsetCommitRequest, version: Int16) -> OffsetCommitResponse {
        let now = wallMillis()
        var parts: [GroupCoordinator.CommitPart] = []
        for t in r.topics {
            let info = broker.topic(t.name)
            for p in t.partitions {
                let valid = info.map { p.partitionIndex >= 0 && p.partitionIndex < $0.partitions } ?? false
                parts.append(.init(tp: GroupTP(topic: t.name, partition: p.partitionIndex),
                                   offset: CommittedOffset(offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch,
                                                           metadata: p.committedMetadata, commitTimestamp: now),
                                   valid: valid))
            }
        }
        var codes = broker.groups.commit(group: r.groupId, generation: r.generationIdOrMemberEpoch,
                                         memberId: r.memberId, parts: parts)[...]
        var resp = OffsetCommitResponse()
        resp.topics = r.topics.map { t in
            var rt = OffsetCommitResponse.OffsetCommitResponseTopic()
            rt.name = t.name
            rt.partitions = t.partitions.map { p in
                var rp = OffsetCommitResponse.OffsetCommitResponsePartition()
                rp.partitionIndex = p.partitionIndex
                rp.errorCode = codes.popFirst() ?? 0
                return rp
            }
            return rt
        }
        return resp
    }

    func offsetFetch(_ r: OffsetFetchRequest, version: Int16) -> OffsetFetchResponse {
        let asked = r.topics.map { $0.map { ($0.name, $0.partitionIndexes) } }
        let found = broker.groups.fetch(group: r.groupId, topics: asked)
        var resp = OffsetFetchResponse()
        resp.topics = found.map { t in
            var rt = OffsetFetchResponse.OffsetFetchResponseTopic()
            rt.name = t.0
            rt.partitions = t.1.map { p, o in
                var rp = OffsetFetchResponse.OffsetFetchResponsePartition()
                rp.partitionIndex = p
                rp.committedOffset = o?.offset ?? -1
                rp.metadata = o == nil ? "" : o!.metadata
                if version >= 5 { rp.committedLeaderEpoch = o?.leaderEpoch ?? -1 }
                return rp
            }
            return rt
        }
        return resp
    }

    func describeGroups(_ r: DescribeGroupsRequest, version: Int16) -> DescribeGroupsResponse {
        var resp = DescribeGroupsResponse()
        resp.groups = r.groups.map { id in
            var d = DescribeGroupsResponse.DescribedGroup()
            d.groupId = id
            guard let v = broker.groups.describe(id) else {
                d.groupState = GroupState.dead.rawValue
                return d
            }
            d.groupState = v.state.rawValue
            d.protocolType = v.protocolType
            d.protocolData = v.protocolName
            d.members = v.members.map { m in
                var x = DescribeGroupsResponse.DescribedGroupMember()
                x.memberId = m.id
                x.clientId = m.clientId
                x.clientHost = "/" + broker.config.advertisedHost
                x.memberMetadata = m.metadata
                x.memberAssignment = m.assignment
                return x
            }
            return d
        }
        return resp
    }

    func listGroups(_ r: ListGroupsRequest, version: Int16) -> ListGroupsResponse {
        var resp = ListGroupsResponse()
        let filter = Set(r.statesFilter.map { $0.lowercased() })
        resp.groups = broker.groups.list().filter { filter.isEmpty || filter.contains($0.state.rawValue.lowercased()) }.map { v in
            var g = ListGroupsResponse.ListedGroup()
            g.groupId = v.id
            g.protocolType = v.protocolType
            if version >= 4 { g.groupState = v.state.rawValue }
            return g
        }
        return resp
    }

    func deleteGroups(_ r: DeleteGroupsRequest) -> DeleteGroupsResponse {
        var resp = DeleteGroupsResponse()
        resp.results = zip(r.groupsNames, broker.groups.deleteGroups(r.groupsNames)).map { id, c in
            var x = DeleteGroupsResponse.DeletableGroupResult()
            x.groupId = id
            x.errorCode = c
            return x
        }
        return resp
    }

    func offsetDelete(_ r: OffsetDeleteRequest) -> OffsetDeleteResponse {
        let tps = r.topics.flatMap { t in t.partitions.map { GroupTP(topic: t.name, partition: $0.partitionIndex) } }
        let (code, codes) = broker.groups.deleteOffsets(group: r.groupId, parts: tps)
        var resp = OffsetDeleteResponse()
        resp.errorCode = code
        guard code == 0 else { return resp }
        var it = codes[...]
        resp.topics = r.topics.map { t in
            var rt = OffsetDeleteResponse.OffsetDeleteResponseTopic()
            rt.name = t.name
            rt.partitions = t.partitions.map { p in
                var rp = OffsetDeleteResponse.OffsetDeleteResponsePartition()
                rp.partitionIndex = p.partitionIndex
                rp.errorCode = it.popFirst() ?? 0
                return rp
            }
            return rt
        }
        return resp
    }
}
