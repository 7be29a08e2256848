import Foundation
import XCTest

/// Services are declared like Flume components (`a1.services = s1`) and get
/// only a lifecycle: started before channels, sinks and sources; stopped last.
final class ServiceTests: XCTestCase {
    /// A C service that appends "start <name>" / "stop <name>" to the file named
    /// by its `path` property.
    let source = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include "sluice_plugin.h"
        typedef struct { const sluice_host_api *h; sluice_component *self; char path[512]; } svc;
        static void note(svc *s, const char *what) {
            FILE *f = fopen(s->path, "a");
            if (f) { fprintf(f, "%s %s\\n", what, s->h->component_name(s->self)); fclose(f); }
        }
        static sluice_status create(void *td, const sluice_host_api *h, sluice_component *self, void **out, sluice_error *e) {
            svc *s = calloc(1, sizeof *s); s->h = h; s->self = self; *out = s; return SLUICE_OK;
        }
        static sluice_status configure(void *i, const sluice_property *p, size_t n, sluice_error *e) {
            svc *s = i;
            for (size_t k = 0; k < n; k++) if (!strcmp(p[k].key, "path")) strncpy(s->path, p[k].value, 511);
            if (!s->path[0]) { strcpy(e->message, "property 'path' is required"); return SLUICE_ERR_CONFIG; }
            return SLUICE_OK;
        }
        static sluice_status start(void *i, sluice_error *e) { note(i, "start"); return SLUICE_OK; }
        static sluice_status stop(void *i, sluice_error *e) { note(i, "stop"); return SLUICE_OK; }
        static void destroy(void *i) { free(i); }
        static const sluice_config_key keys[] = {{ sizeof(sluice_config_key), SLUICE_VALUE_STRING, "path", 0, "file to note lifecycle in", 1 }};
        static const sluice_component_type t[] = {{ .struct_size = sizeof(sluice_component_type), .kind = SLUICE_KIND_SERVICE,
            .type_name = "notes", .config_key_count = 1, .config_keys = keys,
            .create = create, .configure = configure, .start = start, .stop = stop, .destroy = destroy }};
        SLUICE_PLUGIN_ENTRY {
            static const sluice_plugin_descriptor d = { sizeof(sluice_plugin_descriptor), SLUICE_ABI_MAJOR, SLUICE_ABI_MINOR,
                "notes-service", "1.0", sizeof(sluice_component_type), 1, t };
            return &d;
        }
        """

    func testServiceOnlyAgentStartsAndStopsServicesInOrder() throws {
        let dir = try pluginDir(["SluiceNullSink"])
        let work = makeTempDir()
        try write(source, to: work + "/notes.c")
        let cc = try runCommand("/usr/bin/cc", ["-shared", "-fPIC", "-I", Paths.repoRoot + "/sdk/include",
                                                work + "/notes.c", "-o", dir + "/libnotes.so"])
        XCTAssertEqual(cc.status, 0, cc.stderr)
        let notes = work + "/notes.txt"
        try write("""
            a1.services = first second
            a1.services.first.type = notes
            a1.services.first.path = \(notes)
            a1.services.second.type = notes
            a1.services.second.path = \(notes)
            """, to: work + "/agent.conf")
        let agent = try AgentProcess(["agent", "-n", "a1", "-f", work + "/agent.conf", "--plugin-dir", dir])
        agent.waitFor("agent a1 started")
        XCTAssertEqual(agent.stop(), 0, agent.log)
        let text = try String(contentsOfFile: notes, encoding: .utf8)
        XCTAssertEqual(text, "start first\nstart second\nstop second\nstop first\n")
    }

    func testServiceMissingRequiredKeyIsAConfigError() throws {
        let dir = try pluginDir(["SluiceNullSink"])
        let work = makeTempDir()
        try write(source, to: work + "/notes.c")
        XCTAssertEqual(try runCommand("/usr/bin/cc", ["-shared", "-fPIC", "-I", Paths.repoRoot + "/sdk/include",
                                                      work + "/notes.c", "-o", dir + "/libnotes.so"]).status, 0)
        try write("a1.services = s1\na1.services.s1.type = notes\na1.services.s1.colour = blue\n", to: work + "/agent.conf")
        let r = try runCommand(Paths.sluice, ["check", "-n", "a1", "-f", work + "/agent.conf", "--plugin-dir", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("agent.conf:2: a1.services.s1.path: missing required property for service type 'notes'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("agent.conf:3: a1.services.s1.colour: unknown property"), r.stderr)
    }
}
