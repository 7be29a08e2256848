// ZooKeeper's protocol constants: op codes (ZooDefs.OpCode), error codes
// (KeeperException.Code), watcher event types and states (Watcher.Event),
// permissions (ZooDefs.Perms), create modes (CreateMode) and the special xids
// of ClientCnxn.

public enum OpCode {
    public static let notification: Int32 = 0
    public static let create: Int32 = 1
    public static let delete: Int32 = 2
    public static let exists: Int32 = 3
    public static let getData: Int32 = 4
    public static let setData: Int32 = 5
    public static let getACL: Int32 = 6
    public static let setACL: Int32 = 7
    public static let getChildren: Int32 = 8
    public static let sync: Int32 = 9
    public static let ping: Int32 = 11
    public static let getChildren2: Int32 = 12
    public static let check: Int32 = 13
    public static let multi: Int32 = 14
    public static let create2: Int32 = 15
    public static let reconfig: Int32 = 16
    public static let checkWatches: Int32 = 17
    public static let removeWatches: Int32 = 18
    public static let createContainer: Int32 = 19
    public static let deleteContainer: Int32 = 20
    public static let createTTL: Int32 = 21
    public static let multiRead: Int32 = 22
    public static let auth: Int32 = 100
    public static let setWatches: Int32 = 101
    public static let sasl: Int32 = 102
    public static let getEphemerals: Int32 = 103
    public static let getAllChildrenNumber: Int32 = 104
    public static let setWatches2: Int32 = 105
    public static let addWatch: Int32 = 106
    public static let whoAmI: Int32 = 107
    public static let createSession: Int32 = -10
    public static let closeSession: Int32 = -11
    public static let error: Int32 = -1
}

/// KeeperException.Code values.
public enum ErrorCode {
    public static let ok: Int32 = 0
    public static let systemError: Int32 = -1
    public static let runtimeInconsistency: Int32 = -2
    public static let dataInconsistency: Int32 = -3
    public static let connectionLoss: Int32 = -4
    public static let marshallingError: Int32 = -5
    public static let unimplemented: Int32 = -6
    public static let operationTimeout: Int32 = -7
    public static let badArguments: Int32 = -8
    public static let unknownSession: Int32 = -12
    public static let apiError: Int32 = -100
    public static let noNode: Int32 = -101
    public static let noAuth: Int32 = -102
    public static let badVersion: Int32 = -103
    public static let noChildrenForEphemerals: Int32 = -108
    public static let nodeExists: Int32 = -110
    public static let notEmpty: Int32 = -111
    public static let sessionExpired: Int32 = -112
    public static let invalidCallback: Int32 = -113
    public static let invalidACL: Int32 = -114
    public static let authFailed: Int32 = -115
    public static let sessionMoved: Int32 = -118
    public static let notReadOnly: Int32 = -119
    public static let noWatcher: Int32 = -121
    public static let reconfigDisabled: Int32 = -123
}

public enum EventType {
    public static let none: Int32 = -1
    public static let nodeCreated: Int32 = 1
    public static let nodeDeleted: Int32 = 2
    public static let nodeDataChanged: Int32 = 3
    public static let nodeChildrenChanged: Int32 = 4
    public static let dataWatchRemoved: Int32 = 5
    public static let childWatchRemoved: Int32 = 6
    public static let persistentWatchRemoved: Int32 = 7
}

public enum KeeperState {
    public static let disconnected: Int32 = 0
    public static let syncConnected: Int32 = 3
    public static let authFailed: Int32 = 4
    public static let expired: Int32 = -112
    public static let closed: Int32 = 7
}

/// WatcherType of removeWatches / checkWatches.
public enum WatcherType {
    public static let children: Int32 = 1
    public static let data: Int32 = 2
    public static let any: Int32 = 3
    public static let persistent: Int32 = 4
    public static let persistentRecursive: Int32 = 5
}

/// AddWatchMode.
public enum AddWatchMode {
    public static let persistent: Int32 = 0
    public static let persistentRecursive: Int32 = 1
}

public enum Perms {
    public static let read: Int32 = 1
    public static let write: Int32 = 2
    public static let create: Int32 = 4
    public static let delete: Int32 = 8
    public static let admin: Int32 = 16
    public static let all: Int32 = 31
}

/// CreateMode flag values.
public enum CreateFlags {
    public static let persistent: Int32 = 0
    public static let ephemeral: Int32 = 1
    public static let persistentSequential: Int32 = 2
    public static let ephemeralSequential: Int32 = 3
    public static let container: Int32 = 4
    public static let persistentWithTTL: Int32 = 5
    public static let persistentSequentialWithTTL: Int32 = 6
}

/// Reserved xids of ClientCnxn.
public enum SpecialXid {
    public static let notification: Int32 = -1
    public static let ping: Int32 = -2
    public static let auth: Int32 = -4
    public static let setWatches: Int32 = -8
}
