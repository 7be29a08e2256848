// ZooKeeper's own Java client (Debian's zookeeper.jar) with persistent and
// persistent-recursive watches across a server restart: the server loses its
// watch table with the connection, so the events after the restart prove the
// client's SetWatches2 on reconnect was understood.
//
//   java -cp /usr/share/java/zookeeper.jar PersistentWatches.java HOSTS MARKER_DIR
// Writes MARKER_DIR/java-ready once the watches are set; the test then kills
// and restarts the server.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

public class PersistentWatches {
    static final BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();
    static final BlockingQueue<String> recursive = new LinkedBlockingQueue<>();
    static final BlockingQueue<String> plain = new LinkedBlockingQueue<>();

    static void expectState(KeeperState want) throws Exception {
        while (true) {
            KeeperState s = states.poll(30, TimeUnit.SECONDS);
            if (s == null) fail("no " + want + " within 30 s");
            if (s == want) return;
            if (s == KeeperState.Expired) fail("session expired");
        }
    }

    static void expect(BlockingQueue<String> q, String event, String which) throws Exception {
        String got = q.poll(10, TimeUnit.SECONDS);
        if (!event.equals(got)) fail(which + " watch: expected " + event + ", got " + got);
    }

    static void fail(String why) {
        System.out.println("FAIL " + why);
        System.exit(1);
    }

    public static void main(String[] args) throws Exception {
        ZooKeeper zk = new ZooKeeper(args[0], 15000, e -> {
            if (e.getType() == EventType.None) states.add(e.getState());
        });
        expectState(KeeperState.SyncConnected);
        zk.create("/pw", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        zk.create("/pp", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        // Connection state changes reach every watcher too (type None): not counted here.
        zk.addWatch("/pw", e -> { if (e.getType() != EventType.None) recursive.add(e.getType() + " " + e.getPath()); },
                    AddWatchMode.PERSISTENT_RECURSIVE);
        zk.addWatch("/pp", e -> { if (e.getType() != EventType.None) plain.add(e.getType() + " " + e.getPath()); },
                    AddWatchMode.PERSISTENT);

        // Before the restart: both fire, and keep firing (not one-shot).
        zk.setData("/pp", "1".getBytes(), -1);
        expect(plain, "NodeDataChanged /pp", "persistent");
        zk.setData("/pp", "2".getBytes(), -1);
        expect(plain, "NodeDataChanged /pp", "persistent");
        zk.create("/pw/a", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        expect(recursive, "NodeCreated /pw/a", "persistent-recursive");
        System.out.println("OK persistent watches fire before the restart");

        Files.writeString(Path.of(args[1], "java-ready"), "");
        expectState(KeeperState.Disconnected);
        expectState(KeeperState.SyncConnected);

        zk.create("/pw/a/b", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        expect(recursive, "NodeCreated /pw/a/b", "persistent-recursive");
        zk.setData("/pw/a/b", "x".getBytes(), -1);
        expect(recursive, "NodeDataChanged /pw/a/b", "persistent-recursive");
        zk.create("/pp/c", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        expect(plain, "NodeChildrenChanged /pp", "persistent");
        zk.setData("/pp", "3".getBytes(), -1);
        expect(plain, "NodeDataChanged /pp", "persistent");
        zk.delete("/pw/a/b", -1);
        expect(recursive, "NodeDeleted /pw/a/b", "persistent-recursive");
        // A persistent-recursive watch gets no NodeChildrenChanged.
        if (!recursive.isEmpty()) fail("unexpected recursive events " + recursive);
        System.out.println("OK persistent watches re-set after restart");
        zk.close();
    }
}
