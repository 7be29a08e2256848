#!/usr/bin/env python3
"""PROTOCOL DOUBLE for the hdfs sink's WebHDFS tests -- not HDFS.

No Hadoop runs on this machine, so this small HTTP server speaks the subset
of the WebHDFS REST API (https://hadoop.apache.org/docs/stable/hadoop-project-dist/hadoop-hdfs/WebHDFS.html)
the sink uses, over a local directory:

  namenode  /webhdfs/v1/<path>?op=...
    PUT  CREATE   -> 307, Location: http://<same server>/datanode/v1/<path>?op=CREATE&...
    POST APPEND   -> 307, Location: .../datanode/v1/<path>?op=APPEND  (404 if the file is missing)
    PUT  MKDIRS   -> 200 {"boolean": true}
    PUT  RENAME   -> 200 {"boolean": true|false} (false if the destination exists),
                     404 FileNotFoundException if the source is missing
    GET  GETFILESTATUS -> 200 {"FileStatus": {...}} or 404
    GET  LISTSTATUS    -> 200 {"FileStatuses": {"FileStatus": [...]}} or 404
    POST TRUNCATE      -> 200 {"boolean": true} (newlength=N)
    GET  OPEN          -> 307 to the datanode, which answers 200 with the bytes
    DELETE DELETE -> 200 {"boolean": ...}
  "datanode" /datanode/v1/<path>?op=CREATE|APPEND  (the body is the data)
    CREATE -> 201 Created, APPEND -> 200 OK

Errors are RemoteException JSON: {"RemoteException": {"exception", "javaClassName", "message"}}.

  webhdfs_double.py <root dir> <control dir> [--tls-cert FILE --tls-key FILE]

prints "port <N>" on stdout once listening on 127.0.0.1. Every request is
logged to <control dir>/requests.log as "METHOD STAGE OP PATH STATUS".
Faults are injected through <control dir>/inject.json, read on each request:
a list of {"op": "APPEND", "stage": "namenode"|"datanode"|"any",
"status": 500|403|404, "count": N (-1: forever)}; a matching rule answers
with that status and a RemoteException instead of doing the operation;
"partial": true on a datanode APPEND stores the first half of the data first.

With --tls-cert/--tls-key (PEM files; the key may also be in the cert file,
then --tls-key can be left out) it speaks HTTPS instead (swebhdfs), TLS 1.2+:
the one port serves both the namenode and the "datanode" paths over TLS, the
redirect Location is https://, and each connection's TLS handshake runs in
that connection's thread (a client stalling in the handshake blocks no one
else). Like many HTTP/1.1 servers after "Connection: close", it closes
connections without sending close_notify.
"""
import argparse, json, os, socket, ssl, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs, unquote

ARGS = argparse.ArgumentParser(description="WebHDFS protocol double")
ARGS.add_argument("root")
ARGS.add_argument("control")
ARGS.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this PEM certificate (chain)")
ARGS.add_argument("--tls-key", metavar="FILE", help="PEM private key for --tls-cert (default: in the cert file)")
ARGS = ARGS.parse_args()
if ARGS.tls_key and not ARGS.tls_cert:
    sys.exit("webhdfs_double.py: --tls-key needs --tls-cert")
ROOT = os.path.abspath(ARGS.root)
CONTROL = os.path.abspath(ARGS.control)
SCHEME = "https" if ARGS.tls_cert else "http"
LOCK = threading.Lock()
EXCEPTIONS = {403: ("AccessControlException", "org.apache.hadoop.security.AccessControlException"),
              404: ("FileNotFoundException", "java.io.FileNotFoundException"),
              500: ("IOException", "java.io.IOException")}


def local(path):
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError("bad path")
    return os.path.join(ROOT, *parts)


def injected(op, stage):
    p = os.path.join(CONTROL, "inject.json")
    try:
        with open(p) as f:
            rules = json.load(f)
    except (OSError, ValueError):
        return None
    for rule in rules:
        if rule.get("op", op).upper() != op or rule.get("stage", "any") not in ("any", stage):
            continue
        if rule.get("count", -1) == 0:
            continue
        if rule.get("count", -1) > 0:
            rule["count"] -= 1
            with open(p + ".new", "w") as f:
                json.dump(rules, f)
            os.replace(p + ".new", p)
        return rule
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True
        return status

    def error(self, status, message):
        name, cls = EXCEPTIONS.get(status, ("IOException", "java.io.IOException"))
        body = json.dumps({"RemoteException": {"exception": name, "javaClassName": cls, "message": message}}).encode()
        return self.answer(status, body)

    def boolean(self, value):
        return self.answer(200, json.dumps({"boolean": value}).encode())

    def handle_any(self, method):
        url = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        op = q.get("op", "").upper()
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if url.path.startswith("/webhdfs/v1"):
            stage, path = "namenode", unquote(url.path[len("/webhdfs/v1"):]) or "/"
        elif url.path.startswith("/datanode/v1"):
            stage, path = "datanode", unquote(url.path[len("/datanode/v1"):]) or "/"
        else:
            return self.log(method, "?", op, url.path, self.error(404, "no such endpoint " + url.path))
        with LOCK:
            status = self.dispatch(method, stage, op, path, q, data)
            self.log(method, stage, op, path, status)

    def log(self, method, stage, op, path, status):
        with open(os.path.join(CONTROL, "requests.log"), "a") as f:
            f.write(f"{method} {stage} {op} {path} {status}\n")

    def dispatch(self, method, stage, op, path, q, data):
        rule = injected(op, stage)
        fault = rule["status"] if rule else None
        if rule and rule.get("partial") and stage == "datanode" and op == "APPEND":
            # A datanode that stored part of the stream, then failed.
            with open(local(path), "ab") as f:
                f.write(data[:len(data) // 2])
        if fault == 403:
            user = q.get("user.name", "<none>")
            return self.error(403, f'Permission denied: user={user}, access=WRITE, inode="{path}":hdfs:supergroup:drwxr-xr-x')
        if fault is not None:
            return self.error(fault, f"injected failure of {op} {path}")
        try:
            p = local(path)
        except ValueError:
            return self.error(400, "bad path " + path)
        host = self.headers.get("Host")
        if stage == "datanode":
            if op == "CREATE" and method == "PUT":
                if os.path.exists(p) and q.get("overwrite", "false") != "true":
                    return self.error(403, f"{path} already exists")
                with open(p, "wb") as f:
                    f.write(data)
                return self.answer(201, headers=[("Location", ("swebhdfs://" if ARGS.tls_cert else "webhdfs://") + host + path)])
            if op == "APPEND" and method == "POST":
                if not os.path.isfile(p):
                    return self.error(404, f"File does not exist: {path}")
                with open(p, "ab") as f:
                    f.write(data)
                return self.answer(200)
            if op == "OPEN" and method == "GET":
                if not os.path.isfile(p):
                    return self.error(404, f"File does not exist: {path}")
                with open(p, "rb") as f:
                    return self.answer(200, f.read())
            return self.error(400, f"bad datanode request {method} {op}")
        if op == "OPEN" and method == "GET":
            if not os.path.isfile(p):
                return self.error(404, f"File does not exist: {path}")
            loc = SCHEME + "://" + host + "/datanode/v1" + path + "?" + "&".join(f"{k}={v}" for k, v in q.items())
            return self.answer(307, headers=[("Location", loc)])
        if op in ("CREATE", "APPEND"):
            if (op == "CREATE") != (method == "PUT"):
                return self.error(400, f"{op} needs {'PUT' if op == 'CREATE' else 'POST'}")
            if op == "CREATE" and os.path.exists(p) and q.get("overwrite", "false") != "true":
                return self.error(403, f"{path} for client already exists")  # FileAlreadyExistsException
            if op == "APPEND" and not os.path.isfile(p):
                return self.error(404, f"File does not exist: {path}")
            if not os.path.isdir(os.path.dirname(p)):
                os.makedirs(os.path.dirname(p), exist_ok=True)
            loc = SCHEME + "://" + host + "/datanode/v1" + path + "?" + "&".join(f"{k}={v}" for k, v in q.items())
            return self.answer(307, headers=[("Location", loc)])
        if op == "TRUNCATE" and method == "POST":
            if not os.path.isfile(p):
                return self.error(404, f"File does not exist: {path}")
            size = int(q.get("newlength", "-1"))
            if size < 0 or size > os.path.getsize(p):
                return self.error(400, f"Cannot truncate {path} to size {size}")
            os.truncate(p, size)
            return self.boolean(True)
        if op == "MKDIRS" and method == "PUT":
            if os.path.isfile(p):
                return self.error(403, f"{path} is a file")  # ParentNotDirectoryException-like
            os.makedirs(p, exist_ok=True)
            return self.boolean(True)
        if op == "RENAME" and method == "PUT":
            dest = q.get("destination")
            if not dest or not dest.startswith("/"):
                return self.error(400, "destination must be an absolute path")
            if not os.path.exists(p):
                return self.error(404, f"File does not exist: {path}")
            d = local(dest)
            if os.path.exists(d) or not os.path.isdir(os.path.dirname(d)):
                return self.boolean(False)
            os.rename(p, d)
            return self.boolean(True)
        if op == "GETFILESTATUS" and method == "GET":
            if not os.path.exists(p):
                return self.error(404, f"File does not exist: {path}")
            st = os.stat(p)
            isdir = os.path.isdir(p)
            return self.answer(200, json.dumps({"FileStatus": {
                "accessTime": int(st.st_atime * 1000), "blockSize": 134217728, "group": "supergroup",
                "length": 0 if isdir else st.st_size, "modificationTime": int(st.st_mtime * 1000),
                "owner": q.get("user.name", "hdfs"), "pathSuffix": "", "permission": "755" if isdir else "644",
                "replication": 0 if isdir else 3, "type": "DIRECTORY" if isdir else "FILE"}}).encode())
        if op == "LISTSTATUS" and method == "GET":
            if not os.path.isdir(p):
                return self.error(404, f"File {path} does not exist.")
            entries = []
            for name in sorted(os.listdir(p)):
                st = os.stat(os.path.join(p, name))
                isdir = os.path.isdir(os.path.join(p, name))
                entries.append({"accessTime": int(st.st_atime * 1000), "blockSize": 134217728, "group": "supergroup",
                                "length": 0 if isdir else st.st_size, "modificationTime": int(st.st_mtime * 1000),
                                "owner": q.get("user.name", "hdfs"), "pathSuffix": name,
                                "permission": "755" if isdir else "644", "replication": 0 if isdir else 3,
                                "type": "DIRECTORY" if isdir else "FILE"})
            return self.answer(200, json.dumps({"FileStatuses": {"FileStatus": entries}}).encode())
        if op == "DELETE" and method == "DELETE":
            if not os.path.exists(p):
                return self.boolean(False)
            if os.path.isdir(p):
                if q.get("recursive") == "true":
                    import shutil
                    shutil.rmtree(p)
                else:
                    os.rmdir(p)
            else:
                os.unlink(p)
            return self.boolean(True)
        return self.error(400, f"unsupported {method} op={op}")

    def do_GET(self): self.handle_any("GET")
    def do_PUT(self): self.handle_any("PUT")
    def do_POST(self): self.handle_any("POST")
    def do_DELETE(self): self.handle_any("DELETE")


class TLSServer(ThreadingHTTPServer):
    """HTTPS: the handshake happens in the request's thread, not in accept()."""

    def __init__(self, address, handler, context):
        self.context = context
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        request.settimeout(30)  # bounds the handshake
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as e:  # e.g. the client rejected our certificate
            print(f"webhdfs_double: TLS handshake with {client_address[0]}:{client_address[1]} failed: {e}",
                  file=sys.stderr, flush=True)
            return
        try:
            tls.settimeout(None)
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.shutdown(socket.SHUT_WR)  # like socketserver's shutdown_request: no close_notify
            except OSError:
                pass
            tls.close()


os.makedirs(ROOT, exist_ok=True)
os.makedirs(CONTROL, exist_ok=True)
if ARGS.tls_cert:
    tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_context.minimum_version = ssl.TLSVersion.TLSv1_2
    tls_context.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
    server = TLSServer(("127.0.0.1", 0), Handler, tls_context)
else:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("port", server.server_address[1], flush=True)
server.serve_forever()
