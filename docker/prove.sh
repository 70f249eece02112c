#!/usr/bin/env bash
# Proves what docker/Dockerfile builds without a Docker engine (none runs on these machines):
#  1. the build stage: a release binary with the Swift runtime linked in statically;
#  2. the runtime stage's file system: Debian bookworm, minbase, plus libsqlite3-0 (what
#     debian:bookworm-slim + the Dockerfile's apt line give), slimmed like the slim image,
#     with the non-root user, the binary, Profiles/ and Seeds/;
#  3. runs the binary in it as that user (chroot in its own mount and pid namespaces), checks
#     the health command, /_health and one FHIR read, and reports the image's size.
# Needs root, debootstrap (installed via apt when missing) and the Debian mirror.
#   bash docker/prove.sh [OUTPUT]        (default docker/proof-<date>.txt)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${1:-docker/proof-$(date -u +%Y-%m-%d).txt}
work=$(mktemp -d)
port=18999
pid=""
cleanup() {
  # The server first (SIGTERM: a graceful stop), then unshare (--kill-child takes whatever is left).
  pkill -TERM -f "^/usr/local/bin/fhir-sandbox serve --host 0.0.0.0" 2>/dev/null || true
  sleep 1
  pkill -KILL -f "^/usr/local/bin/fhir-sandbox serve --host 0.0.0.0" 2>/dev/null || true
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
exec > >(tee "$out") 2>&1

echo "fhir-sandbox container proof, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)"
echo
echo "== build stage: swift build -c release --product fhir-sandbox --static-swift-stdlib"
swift build -c release --product fhir-sandbox --static-swift-stdlib 2>&1 | tail -1
binary="$(swift build -c release --show-bin-path)/fhir-sandbox"
echo "binary: $(du -h "$binary" | cut -f1)"
echo "dynamic libraries it needs:"
ldd "$binary" | sed 's/ (0x[0-9a-f]*)//; s/^/  /'

echo
echo "== runtime stage: debootstrap --variant=minbase --include=libsqlite3-0 bookworm"
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
rootfs="$work/rootfs"
debootstrap --variant=minbase --include=libsqlite3-0 bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log"; exit 1; }
# What the slim image leaves out, and the Dockerfile's `rm -rf /var/lib/apt/lists/*`.
rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
chroot "$rootfs" useradd --system --uid 10001 --home-dir /opt/fhir-sandbox --shell /usr/sbin/nologin sandbox
install -D -m 0755 "$binary" "$rootfs/usr/local/bin/fhir-sandbox"
strip "$rootfs/usr/local/bin/fhir-sandbox"  # as the Dockerfile does
mkdir -p "$rootfs/opt/fhir-sandbox"
cp -r Profiles Seeds "$rootfs/opt/fhir-sandbox/"
echo "libraries resolve inside it:"
chroot "$rootfs" ldd /usr/local/bin/fhir-sandbox | sed 's/ (0x[0-9a-f]*)//; s/^/  /'
if chroot "$rootfs" ldd /usr/local/bin/fhir-sandbox | grep -q "not found"; then echo "FAIL: a library is missing"; exit 1; fi

echo
echo "== run: as uid 10001 in the chroot (CMD serve --host 0.0.0.0), port $port"
unshare --mount --pid --fork --kill-child --mount-proc="$rootfs/proc" chroot --userspec=10001:10001 "$rootfs" /bin/sh -c \
  "cd /opt/fhir-sandbox && FHIR_SANDBOX_PORT=$port FHIR_SANDBOX_ADMIN_TOKEN=proof-TEST-ONLY exec /usr/local/bin/fhir-sandbox serve --host 0.0.0.0" \
  >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q "^ready " "$work/server.log" && break; sleep 0.1; done
grep -q "^ready " "$work/server.log" || { cat "$work/server.log"; echo "FAIL: no ready line"; exit 1; }
grep "^ready \|warning" "$work/server.log" | sed 's/^/  /'
server_pid=$(pgrep -f "^/usr/local/bin/fhir-sandbox serve" | head -1)
echo "server process user: uid $(awk '/^Uid:/ {print $2}' /proc/"$server_pid"/status)"
# As Docker runs a HEALTHCHECK: in the container (its own /proc), as its user.
health=$(unshare --mount --pid --fork --mount-proc="$rootfs/proc" chroot --userspec=10001:10001 "$rootfs" \
  env FHIR_SANDBOX_PORT=$port /usr/local/bin/fhir-sandbox health; echo "exit $?")
echo "HEALTHCHECK (fhir-sandbox health): $health" | tr '\n' ' '; echo
echo "GET /_health: $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/_health)"
read=$(curl -s -w ' %{http_code}' http://127.0.0.1:$port/fhir/r4/Patient/pat-0001)
echo "GET /fhir/r4/Patient/pat-0001: ${read##* } $(echo "${read% *}" | head -c 120)…"
echo "admin without the token: $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/_admin/clock)"
echo "admin with the token: $(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer proof-TEST-ONLY' http://127.0.0.1:$port/_admin/clock)"

echo
echo "== size"
echo "runtime file system (the image): $(du -sh "$rootfs" | cut -f1)"
echo "  of which the binary: $(du -sh "$rootfs/usr/local/bin/fhir-sandbox" | cut -f1), Profiles+Seeds: $(du -shc "$rootfs"/opt/fhir-sandbox/* | tail -1 | cut -f1)"
echo "  base (minbase + libsqlite3-0, slimmed): $(du -sh --exclude=usr/local --exclude=opt "$rootfs" | cut -f1)"
echo
echo "proof: ok"
