import Foundation
import XCTest

/// The loader's refusals, each through the real binary with real `.so` files.
final class PluginLoadingTests: XCTestCase {
    /// Compiles a C plugin from source into `dir`.
    func compileC(_ source: String, name: String, in dir: String) throws -> String {
        let src = dir + "/\(name).c"
        let out = dir + "/lib\(name).so"
        try write(source, to: src)
        let r = try runCommand("/usr/bin/cc", ["-shared", "-fPIC", "-I", Paths.repoRoot + "/sdk/include", src, "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        try FileManager.default.removeItem(atPath: src)
        return out
    }

    func testListsPluginsWithHashABIAndTypes() throws {
        let dir = try pluginDir(["SluiceNullSink", "SluiceFlumeInterceptors"], copies: true)
        let r = try runCommand(Paths.sluice, ["plugins", "--plugin-dir", dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        let sha = try runCommand("/usr/bin/sha256sum", [dir + "/libSluiceNullSink.so"]).stdout.prefix(64)
        XCTAssertTrue(r.stdout.contains("sha256 \(sha)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("ABI 1.0"))
        XCTAssertTrue(r.stdout.contains("sink null (also: org.apache.flume.sink.NullSink)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("interceptor timestamp"), r.stdout)
    }

    func testRefusesMissingEntrySymbol() throws {
        let dir = makeTempDir()
        let so = try compileC("int not_the_entry(void) { return 1; }\n", name: "noentry", in: dir)
        let r = try runCommand(Paths.sluice, ["plugins", "--plugin-dir", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("plugin \(so): missing entry symbol sluice_plugin_entry"), r.stderr)
    }

    func testRefusesDifferentABIMajor() throws {
        let dir = makeTempDir()
        let so = try compileC("""
            #include "sluice_plugin.h"
            SLUICE_PLUGIN_ENTRY {
                static sluice_plugin_descriptor d = { sizeof(sluice_plugin_descriptor), 7, 0, "future", "9.0",
                                                      sizeof(sluice_component_type), 0, 0 };
                return &d;
            }
            """, name: "future", in: dir)
        let r = try runCommand(Paths.sluice, ["plugins", "--plugin-dir", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("plugin \(so): ABI major version 7 is not supported (this host speaks 1.0)"), r.stderr)
    }

    func testAcceptsOlderMinorAndSmallerStructs() throws {
        // A plugin built against a shorter component struct (as an older
        // minor would be) still loads: the host zero-fills what it lacks.
        let dir = makeTempDir()
        _ = try compileC("""
            #include <stddef.h>
            #include "sluice_plugin.h"
            static sluice_status ok(void *i, sluice_error *e) { (void)i; (void)e; return SLUICE_OK; }
            static sluice_status cr(void *td, const sluice_host_api *h, sluice_component *s, void **out, sluice_error *e) { *out = (void*)1; return SLUICE_OK; }
            static sluice_status cf(void *i, const sluice_property *p, size_t n, sluice_error *e) { return SLUICE_OK; }
            static void de(void *i) { (void)i; }
            static sluice_component_type t = { 0, SLUICE_KIND_SERVICE, "oldservice", 0, 0, 0, 0, 0, 0, cr, cf, ok, ok, de };
            SLUICE_PLUGIN_ENTRY {
                static sluice_plugin_descriptor d = { sizeof(sluice_plugin_descriptor), SLUICE_ABI_MAJOR, 0, "old", "0.1",
                                                      offsetof(sluice_component_type, process), 1, &t };
                t.struct_size = offsetof(sluice_component_type, process);
                return &d;
            }
            """, name: "old", in: dir)
        let r = try runCommand(Paths.sluice, ["plugins", "--plugin-dir", dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("service oldservice"), r.stdout)
    }

    func testRefusesTwoPluginsClaimingOneTypeName() throws {
        let dir = try pluginDir(["SluiceNullSink"], copies: true)
        try FileManager.default.copyItem(atPath: dir + "/libSluiceNullSink.so", toPath: dir + "/libZCopy.so")
        let r = try runCommand(Paths.sluice, ["plugins", "--plugin-dir", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("plugin \(dir)/libZCopy.so: sink type name 'null' is already claimed also by \(dir)/libSluiceNullSink.so"), r.stderr)
    }

    func testRefusesFileWritableByOthers() throws {
        let dir = try pluginDir(["SluiceNullSink"], copies: true)
        chmod(dir + "/libSluiceNullSink.so", 0o666)
        let r = try runCommand(Paths.sluice, ["plugins", "--plugin-dir", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("plugin \(dir)/libSluiceNullSink.so: file is writable by other users (mode 666)"), r.stderr)
    }

    func testRefusesDirectoryWritableByOthers() throws {
        let dir = try pluginDir(["SluiceNullSink"], copies: true)
        chmod(dir, 0o777)
        let r = try runCommand(Paths.sluice, ["plugins", "--plugin-dir", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("directory \(dir) is writable by other users (mode 777)"), r.stderr)
    }

    func testRefusesJunkFile() throws {
        let dir = makeTempDir()
        try write("not an ELF file", to: dir + "/libjunk.so")
        let r = try runCommand(Paths.sluice, ["plugins", "--plugin-dir", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("plugin \(dir)/libjunk.so: cannot load:"), r.stderr)
    }

    func testManifestLoadsOnlyListedPluginsAndChecksHashes() throws {
        let dir = try pluginDir(["SluiceNullSink", "SluiceLoggerSink"], copies: true)
        let sha = String(try runCommand("/usr/bin/sha256sum", [dir + "/libSluiceNullSink.so"]).stdout.prefix(64))
        let manifest = dir + "/plugins.manifest"
        try write("# pinned\nlibSluiceNullSink.so sha256:\(sha)\n", to: manifest)
        var r = try runCommand(Paths.sluice, ["plugins", "--manifest", manifest])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("sink null"))
        XCTAssertFalse(r.stdout.contains("sink logger"), "an unlisted plugin was loaded")

        // Tamper with the pinned file.
        let h = FileHandle(forWritingAtPath: dir + "/libSluiceNullSink.so")!
        h.seekToEndOfFile()
        h.write(Data([0]))
        h.closeFile()
        r = try runCommand(Paths.sluice, ["plugins", "--manifest", manifest])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("plugin \(dir)/libSluiceNullSink.so: sha256 mismatch: manifest pins \(sha)"), r.stderr)
    }

    func testManifestRejectsMalformedHash() throws {
        let dir = try pluginDir(["SluiceNullSink"], copies: true)
        try write("libSluiceNullSink.so sha256:abc\n", to: dir + "/m")
        let r = try runCommand(Paths.sluice, ["plugins", "--manifest", dir + "/m"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("\(dir)/m: line 1: sha256 must be 64 hex digits"), r.stderr)
    }
}
