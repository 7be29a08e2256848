import SluiceSDK
#if canImport(Glibc)
import Glibc
#endif

// Process plumbing for the exec source: pipes, posix_spawn, signalling and
// reaping. Everything reports failures as thrown errors or return values;
// nothing here traps.

private typealias Pipe2Function = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
private typealias CloseFromFunction = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

/// glibc functions the Swift Glibc module does not import (they need
/// _GNU_SOURCE), looked up once at run time. Both exist since glibc 2.34;
/// without them the code falls back to pipe + fcntl and to close-on-exec.
private let pipe2Function: Pipe2Function? = {
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else { return nil }
    return unsafeBitCast(sym, to: Pipe2Function.self)
}()

private let closeFromFunction: CloseFromFunction? = {
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(sym, to: CloseFromFunction.self)
}()

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// A pipe whose two ends are close-on-exec (set atomically when pipe2 exists,
/// so a child spawned by another thread meanwhile cannot inherit them).
func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [-1, -1]
    if let p2 = pipe2Function {
        guard p2(&fds, O_CLOEXEC) == 0 else { throw SluiceError.io("pipe: \(errnoText())") }
    } else {
        guard pipe(&fds) == 0 else { throw SluiceError.io("pipe: \(errnoText())") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    }
    return (fds[0], fds[1])
}

func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    if flags >= 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
}

/// A running child: its pid (also its process group id) and the read ends
/// of its stdout and (when captured) stderr pipes, both non-blocking.
struct Child {
    let pid: pid_t
    var stdout: Int32
    var stderr: Int32 // -1 when stderr goes to /dev/null

    mutating func closePipes() {
        if stdout >= 0 { close(stdout) }
        if stderr >= 0 { close(stderr) }
        stdout = -1
        stderr = -1
    }
}

/// Signals the host blocks or ignores (it blocks SIGINT/SIGTERM for sigwait
/// and ignores SIGPIPE). A child inherits ignored dispositions and the
/// signal mask across exec, so they are put back to the defaults.
private let defaultedSignals: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1, SIGUSR2,
                                         SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ, SIGWINCH]

/// Starts `argv` (argv[0] looked up on PATH when it has no slash) in a new
/// process group, with stdin from /dev/null, stdout into a pipe and stderr
/// into a pipe or /dev/null. Throws with the reason when it cannot start
/// (no such file, not executable, ...).
func spawnChild(_ argv: [String], captureStderr: Bool) throws -> Child {
    guard let program = argv.first, !program.isEmpty else { throw SluiceError.config("empty command") }
    let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
    guard devNull >= 0 else { throw SluiceError.io("/dev/null: \(errnoText())") }
    defer { close(devNull) }
    let out = try makePipe()
    var err: (read: Int32, write: Int32) = (-1, -1)
    if captureStderr {
        do { err = try makePipe() } catch {
            close(out.read)
            close(out.write)
            throw error
        }
    }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, devNull, 0)
    posix_spawn_file_actions_adddup2(&actions, out.write, 1)
    posix_spawn_file_actions_adddup2(&actions, captureStderr ? err.write : devNull, 2)
    if let closeFrom = closeFromFunction { _ = closeFrom(&actions, 3) }

    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var mask = sigset_t()
    sigemptyset(&mask)
    posix_spawnattr_setsigmask(&attr, &mask)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for s in defaultedSignals { sigaddset(&defaults, s) }
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setpgroup(&attr, 0)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
    cArgs.append(nil)
    defer { for p in cArgs { free(p) } }

    var pid: pid_t = 0
    var rc = ENOMEM
    if let file = cArgs[0], !cArgs.dropLast().contains(where: { $0 == nil }) {
        rc = cArgs.withUnsafeBufferPointer { args in
            posix_spawnp(&pid, file, &actions, &attr, args.baseAddress!, environ)
        }
    }
    close(out.write)
    if err.write >= 0 { close(err.write) }
    guard rc == 0 else {
        close(out.read)
        if err.read >= 0 { close(err.read) }
        throw SluiceError.io(errnoText(rc))
    }
    setNonBlocking(out.read)
    if err.read >= 0 { setNonBlocking(err.read) }
    return Child(pid: pid, stdout: out.read, stderr: err.read)
}

/// True once `pid` has terminated (or is no longer our child), without
/// reaping it: while it is unreaped its pid, and so its process group id,
/// cannot be reused, which makes signalling the group safe.
func hasExited(_ pid: pid_t) -> Bool {
    var info = siginfo_t()
    while true {
        if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 { return info.si_signo != 0 }
        if errno != EINTR { return true } // ECHILD: reaped elsewhere
    }
}

/// Reaps `pid`; returns its wait status, or nil when something else reaped it.
func reap(_ pid: pid_t) -> Int32? {
    var status: Int32 = 0
    while true {
        if waitpid(pid, &status, 0) == pid { return status }
        if errno != EINTR { return nil }
    }
}

/// Sends `signal` to the child's process group, and to the child itself in
/// case it moved to another group. Call only while the child is unreaped.
func signalGroup(_ pid: pid_t, _ signal: Int32) {
    _ = kill(-pid, signal)
    _ = kill(pid, signal)
}

/// "exited with status 3", "was killed by signal 9 (SIGKILL)".
func describeWaitStatus(_ status: Int32?) -> (text: String, clean: Bool) {
    guard let status else { return ("ended (exit status unknown: reaped elsewhere)", false) }
    let sig = status & 0x7f
    if sig == 0 {
        let code = (status >> 8) & 0xff
        return ("exited with status \(code)", code == 0)
    }
    let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGKILL: "SIGKILL",
                                  SIGPIPE: "SIGPIPE", SIGTERM: "SIGTERM", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT"]
    let name = names[sig].map { " (\($0))" } ?? ""
    return ("was killed by signal \(sig)\(name)", false)
}

/// Monotonic clock in nanoseconds.
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// The monotonic time `millis` from now, saturating instead of overflowing
/// (a huge configured value means "practically never").
func deadlineAfter(millis: Int) -> UInt64 {
    let (nanos, overflow) = UInt64(max(millis, 0)).multipliedReportingOverflow(by: 1_000_000)
    if overflow { return UInt64.max }
    let (sum, overflow2) = monotonicNanos().addingReportingOverflow(nanos)
    return overflow2 ? UInt64.max : sum
}

/// A poll timeout in milliseconds reaching `deadline` (rounded up, at most a minute).
func pollMillis(until deadline: UInt64, now: UInt64) -> Int32 {
    guard deadline > now else { return 0 }
    return Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
}
