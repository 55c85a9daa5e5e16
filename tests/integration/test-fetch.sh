#!/usr/bin/env bash
# Downloads of url + sha256 tarball bases, against a local HTTP server with misbehaving paths:
# a redirect is followed; a 404 and a connection that always breaks mid-body fail clearly, naming
# the URL, after leaving nothing behind; a connection that breaks once is retried; other bytes
# than the sha256 promises are refused ("sha256 mismatch") and never cached.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/recipe_lib.sh"

require_binaries
require_cmd fakeroot mksquashfs
require_alpine_tarball

cd "$TEST_TMP"
cp "$ALPINE_TARBALL" ok.tar.gz
sha=$ALPINE_SHA256
head -c 100000 /dev/urandom >other.bin
other_sha=$(sha256_of other.bin)

# --- the server: every request is logged as "METHOD PATH" in requests.log ---
cat >server.py <<'EOF'
import http.server, os, sys, threading

root = sys.argv[1]
payload = open(os.path.join(root, "ok.tar.gz"), "rb").read()
other = open(os.path.join(root, "other.bin"), "rb").read()
lock = threading.Lock()
counts = {}

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def count(self):
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
            with open(os.path.join(root, "requests.log"), "a") as log:
                log.write(f"{self.command} {self.path}\n")
            return counts[self.path]

    def send_body(self, body, length=None, truncate=False):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncate else body)
        self.wfile.flush()
        if truncate:  # the promised length never arrives: the peer sees the connection close early
            self.close_connection = True

    def do_GET(self):
        n = self.count()
        if self.path == "/ok.tar.gz":
            self.send_body(payload)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/ok.tar.gz")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/missing":
            self.send_error(404, "Not Found")
        elif self.path == "/drop":
            self.send_body(payload, truncate=True)
        elif self.path == "/flaky":
            self.send_body(payload, truncate=(n == 1))
        elif self.path == "/wrong":
            self.send_body(other)
        else:
            self.send_error(404, "Not Found")

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"port {server.server_address[1]}", flush=True)
server.serve_forever()
EOF
: >requests.log
"$PYTHON" -u server.py "$TEST_TMP" >server.out 2>server.log &
register_pid $!
port=""
for ((i = 0; i < 100; i++)); do
  port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' server.out | head -n1)
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || fail "the HTTP server did not start: $(cat server.out server.log)"
base_url=http://127.0.0.1:$port
requests() { grep -c "^GET $1\$" requests.log || true; }

recipe() {  # FILE PATH SHA
  printf 'name: fetched\nbase:\n  tarball:\n    url: %s%s\n    sha256: %s\n' "$base_url" "$2" "$3" >"$1"
}

# A build that must succeed and put the tarball into CACHE/sha256/<hex>.
good_fetch() {  # NAME PATH CACHE
  local name=$1 path=$2 cache=$3
  recipe "$name.yaml" "$path" "$sha"
  pack "$name.yaml" "$name.app" --cache-dir "$cache"
  BUILD_ERR=$ERR  # the checks below run other commands
  expect_rc "$name: the build succeeds" 0
  expect_contains "$name: says what it downloads" "$BUILD_ERR" "downloading $base_url$path"
  expect_true "$name: the tarball is cached as sha256/<hex>" test -f "$cache/sha256/$sha"
  if [[ -f $cache/sha256/$sha ]]; then
    expect_eq "$name: the cached file has that sha256" "$(sha256_of "$cache/sha256/$sha")" "$sha"
  fi
  expect_cache_tmp_empty "$name: nothing left in the cache's tmp/" "$cache"
  check_no_leftovers "$TEST_TMP"
  if [[ -x $name.app ]]; then
    info_json "$name.app" "$name.json" I
    expect_eq "$name: manifest source is the recipe's url" "${I[manifest.build.bases.0.source]}" "$base_url$path"
    expect_eq "$name: manifest kind" "${I[manifest.build.bases.0.kind]}" tarball
    expect_eq "$name: manifest sha256" "${I[manifest.build.bases.0.sha256]}" "$sha"
    run "./$name.app" run cat /etc/alpine-release
    expect_eq "$name: the appliance runs" "$OUT" 3.20.3
  fi
}

# A build that must fail: names the URL, writes nothing, caches nothing, leaves no temporary file.
bad_fetch() {  # NAME PATH SHA CACHE
  local name=$1 path=$2 want_sha=$3 cache=$4
  recipe "$name.yaml" "$path" "$want_sha"
  pack "$name.yaml" "$name.app" --cache-dir "$cache"
  expect_failed "$name: the build fails (exit status $RC)"
  expect_contains "$name: the error names the URL" "$ERR" "error: download $base_url$path"
  expect_eq "$name: nothing on stdout" "$OUT" ""
  expect_eq "$name: nothing cached" "$(ls -A "$cache/sha256" 2>/dev/null || true)" ""
  expect_eq "$name: no image cached" "$(ls -A "$cache/images" 2>/dev/null || true)" ""
  expect_cache_tmp_empty "$name: nothing left in the cache's tmp/" "$cache"
  check_no_leftovers "$TEST_TMP" "$name.app"
}

# --- successes ---
good_fetch ok /ok.tar.gz cache-ok
expect_eq "ok: one request" "$(requests /ok.tar.gz)" 1
expect_contains "ok: download progress is reported" "$BUILD_ERR" "ok.tar.gz: 100% of 3."

good_fetch redirect /redirect cache-redirect
expect_eq "redirect: one request to /redirect" "$(requests /redirect)" 1
expect_eq "redirect: the redirect was followed to /ok.tar.gz" "$(requests /ok.tar.gz)" 2

# The cache serves a second build: no request.
pack ok.yaml ok-again.app --cache-dir cache-ok
expect_rc "cached: the build succeeds" 0
expect_eq "cached: no new request" "$(requests /ok.tar.gz)" 2
expect_not_contains "cached: downloads nothing" "$ERR" "downloading"

start=$(now_ms)
good_fetch flaky /flaky cache-flaky
expect_eq "flaky: two requests (the first broke, the second served)" "$(requests /flaky)" 2
expect_contains "flaky: the retry is announced" "$BUILD_ERR" "downloading $base_url/flaky (retrying)"
say "flaky took $(($(now_ms) - start)) ms"

# --- failures ---
bad_fetch missing /missing "$sha" cache-missing
expect_contains "missing: says 404" "$ERR" "404"
expect_eq "missing: a 404 is not retried" "$(requests /missing)" 1

start=$(now_ms)
bad_fetch drop /drop "$sha" cache-drop
elapsed=$(($(now_ms) - start))
expect_eq "drop: three attempts" "$(requests /drop)" 3
expect_contains "drop: retries are announced" "$ERR" "downloading $base_url/drop (retrying)"
expect_contains "drop: says the transfer ended early" "$ERR" "bytes remaining"
expect_true "drop: gives up in reasonable time ($elapsed ms < 30 s)" test "$elapsed" -lt 30000

bad_fetch wrong /wrong "$sha" cache-wrong
expect_contains "wrong: says sha256 mismatch" "$ERR" "sha256 mismatch"
expect_contains "wrong: names the expected digest" "$ERR" "$sha"
expect_contains "wrong: names the actual digest" "$ERR" "$other_sha"
expect_absent "wrong: nothing cached under the expected digest" "cache-wrong/sha256/$sha"
expect_absent "wrong: nothing cached under the served bytes' digest" "cache-wrong/sha256/$other_sha"
expect_eq "wrong: a mismatch is not retried" "$(requests /wrong)" 1

# Bytes that match their digest but are no tarball: downloaded and verified, then refused when
# unpacked; the tarball cached before is untouched and nothing is left behind.
recipe not-a-tarball.yaml /wrong "$other_sha"
pack not-a-tarball.yaml not-a-tarball.app --cache-dir cache-ok
expect_failed "not a tarball: the build fails (exit status $RC)"
expect_contains "not a tarball: the error names the cached file" "$ERR" "cache-ok/sha256/$other_sha"
expect_true "not a tarball: the tarball cached before is untouched" cmp -s "cache-ok/sha256/$sha" ok.tar.gz
expect_cache_tmp_empty "not a tarball: nothing left in the cache's tmp/" cache-ok
check_no_leftovers "$TEST_TMP" not-a-tarball.app
