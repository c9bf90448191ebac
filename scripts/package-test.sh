#!/usr/bin/env bash
# Tests the Debian packages as installed (make test-package, the last step of .ci/run):
#   1. installs dist/vscard-bridge_*.deb and dist/vscard-server_*.deb with apt-get;
#   2. checks what they put on the machine: files, the vscard user, the units enabled, the
#      server's "what to configure first", and pcscd's readers from the installed
#      /etc/reader.conf.d/vscard-bridge and driver;
#   3. runs the Chromium full-flow e2e test (e2e/fullflow.test.ts) with the INSTALLED
#      binaries (/usr/bin/vscard-server, /usr/bin/vscard-bridge) on the machine's pcscd,
#      which loads the installed reader.conf entry and vpcd driver, with the readers the
#      installed user unit names; meanwhile the socket table is sampled, and nothing of
#      vscard or pcscd may listen beyond loopback;
#   4. purges both and checks that nothing is left: files, reader.conf entries, unit
#      links, the user, listeners, and pcscd started again shows none of the readers.
#
# What it does not exercise: the server and the agent as systemd starts them (the e2e
# harness starts each binary itself, the server in development mode on a free port) and
# the browser's vscard:// hand-off through the desktop file (the test hands the link to
# the Desktop App as the harness does). Without systemd as PID 1 (a container) the
# maintainer scripts cannot restart pcscd, so this starts and stops it itself.
#
# It changes the machine's pcscd: run it after the other tests (their private pcscds must
# be gone). It refuses to start when the packages are installed already, when
# vsmartcard-vpcd is (the bridge conflicts with it: apt would remove it) or when
# /etc/reader.conf.d/vscard from scripts/desktop-setup.sh names the same readers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
OUT=${VSCARD_PACKAGE_DIR:-$root/dist}
ARCH=$(dpkg --print-architecture)
log() { printf 'package-test: %s\n' "$*"; }
fail() { printf 'package-test: FAIL: %s\n' "$*" >&2; exit 1; }

newest() { ls -t "$OUT"/"$1"_*_"$ARCH".deb 2>/dev/null | head -1; }
bridge_deb=$(newest vscard-bridge); server_deb=$(newest vscard-server)
[ -n "$bridge_deb" ] && [ -n "$server_deb" ] || fail "no packages in $OUT: make package"

# --- before
for p in vscard-bridge vscard-server; do
  if dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
    fail "$p is installed (or its configuration is left): this test installs and purges it"
  fi
done
if [ "$(dpkg-query -W -f '${db:Status-Status}' vsmartcard-vpcd 2>/dev/null)" = installed ]; then
  fail "vsmartcard-vpcd is installed: vscard-bridge conflicts with it (apt would remove it); remove it for the test"
fi
[ ! -e /etc/reader.conf.d/vscard ] || fail "/etc/reader.conf.d/vscard (scripts/desktop-setup.sh, make run) names the readers the package configures: move it away for the test"
systemd=0; [ -d /run/systemd/system ] && systemd=1
if [ "$systemd" = 0 ] && [ -S /run/pcscd/pcscd.comm ] && opensc-tool --list-readers >/dev/null 2>&1; then
  fail "the machine's pcscd runs already: stop it (this test starts it on the installed readers)"
fi

# lintian, before anything is installed: errors and warnings fail (the overrides in
# packaging/*/lintian-overrides say why each is there).
"$root/scripts/apt-install.sh" lintian
log "lintian"
if ! lintian --fail-on error,warning --tag-display-limit 0 "$bridge_deb" "$server_deb" >"$OUT/lintian.log" 2>&1; then
  cat "$OUT/lintian.log" >&2
  fail "lintian finds errors or warnings"
fi

# loopback prints the loopback TCP listeners of vscard's programs: the sampling below must
# have seen the card's port, or it proves nothing.
loopback() {
  $SUDO ss -Hltnp 2>/dev/null | awk '/"vscard-bridge"/ && $4 ~ /^127\.0\.0\.1:/ { print $4 }'
}

# listeners prints the listening TCP sockets of vscard's programs and pcscd that are not
# on loopback, one per line ("address program").
listeners() {
  $SUDO ss -Hltnp 2>/dev/null | awk '/"(vscard-server|vscard-bridge|pcscd)"/ {
      addr = $4; sub(/:[0-9]+$/, "", addr)
      if (addr != "127.0.0.1" && addr != "[::1]" && addr != "[::ffff:127.0.0.1]") print $4, $6 }'
}

# Without systemd, pcscd runs here in the foreground on its default socket and
# configuration (/etc/reader.conf.d). Other tests' private pcscds (pcsctest, e2e) have
# sockets and reader.conf of their own; they share only pcscd.pid, so the one to stop is
# known by the pid of the process started here, never by that file.
pcscd_pid=""
start_pcscd() {
  if [ "$systemd" = 1 ]; then
    $SUDO systemctl restart pcscd.socket
    opensc-tool --list-readers >/dev/null 2>&1 || true # the first client starts it
  else
    $SUDO rm -f /run/pcscd/pcscd.comm # a dead pcscd's
    $SUDO /usr/sbin/pcscd --foreground >>"$OUT/pcscd.log" 2>&1 &
    pcscd_pid=$!
  fi
  for _ in $(seq 100); do opensc-tool --list-readers >/dev/null 2>&1 && break; sleep 0.1; done
  [ -S /run/pcscd/pcscd.comm ] || fail "pcscd did not start (see $OUT/pcscd.log)"
}
stop_pcscd() {
  if [ "$systemd" = 1 ]; then
    $SUDO systemctl stop pcscd.service || true
  elif [ -n "$pcscd_pid" ]; then
    $SUDO kill "$pcscd_pid" 2>/dev/null || true
    wait "$pcscd_pid" 2>/dev/null || true
  fi
  pcscd_pid=""
}
readers() { opensc-tool --list-readers 2>/dev/null || true; }

installed=0
cleanup() {
  stop_pcscd
  if [ "$installed" = 1 ]; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q vscard-bridge vscard-server >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# --- 1. install
log "installing $(basename "$bridge_deb") and $(basename "$server_deb")"
installed=1
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$bridge_deb" "$server_deb" 2>&1 |
  tee "$OUT/install.log" | grep -E '^(vscard|Setting up vscard)|vscard-server' || true
for p in vscard-bridge vscard-server; do
  [ "$(dpkg-query -W -f '${db:Status-Status}' "$p")" = installed ] || fail "$p is not installed (see $OUT/install.log)"
done
grep -q 'VSCARD_SECRET_KEY=' "$OUT/install.log" ||
  fail "installing vscard-server did not say what to configure first (see $OUT/install.log)"
files=$(dpkg -L vscard-bridge vscard-server)

# --- 2. what is on the machine
for f in /usr/bin/vscard-bridge /usr/bin/vscard-server /usr/lib/vscard-bridge/libifdvpcd.so \
  /etc/reader.conf.d/vscard-bridge /usr/lib/systemd/user/vscard-bridge.service \
  /usr/share/applications/vscard-bridge.desktop /lib/systemd/system/vscard-server.service \
  /etc/vscard/vscard.env /etc/systemd/user/default.target.wants/vscard-bridge.service \
  /etc/systemd/system/multi-user.target.wants/vscard-server.service; do
  [ -e "$f" ] || fail "$f is missing after installing"
done
[ "$(stat -c '%a %U' /etc/vscard/vscard.env)" = "600 root" ] || fail "/etc/vscard/vscard.env is not root's only"
getent passwd vscard >/dev/null || fail "no system user vscard"
grep -q '^MimeType=x-scheme-handler/vscard;' /usr/share/applications/vscard-bridge.desktop || fail "the desktop file handles no vscard:// links"
if [ -f /usr/share/applications/mimeinfo.cache ]; then
  grep -q '^x-scheme-handler/vscard=.*vscard-bridge.desktop' /usr/share/applications/mimeinfo.cache ||
    fail "mimeinfo.cache does not name vscard-bridge.desktop for vscard:// (desktop-file-utils' trigger)"
fi
# The server refuses to start unconfigured, with the list (exit 78), as the unit would run it.
set +e
out=$($SUDO env -i bash -c 'set -a; . /etc/vscard/vscard.env; exec /usr/bin/vscard-server serve' 2>&1); rc=$?
set -e
[ "$rc" = 78 ] || fail "unconfigured vscard-server exited $rc, want 78: $out"
for want in VSCARD_SECRET_KEY= VSCARD_OIDC_ISSUER= VSCARD_PUBLIC_URL=; do
  grep -q "$want" <<<"$out" || fail "unconfigured vscard-server did not name $want: $out"
done
if [ "$systemd" = 1 ]; then
  systemctl is-enabled --quiet vscard-server.service || fail "vscard-server.service is not enabled"
  systemctl is-active --quiet vscard-server.service && fail "vscard-server.service runs unconfigured"
  systemd-analyze verify /lib/systemd/system/vscard-server.service || fail "systemd-analyze verify vscard-server.service"
fi

# pcscd with the installed reader.conf entry and driver: four readers, none listening.
start_pcscd
want_readers=$(grep -c '^FRIENDLYNAME' /etc/reader.conf.d/vscard-bridge)
got=$(readers | grep -cE '(Virtual PCD|vscard [0-9]+) 0[01] 0[01]' || true)
[ "$got" = $((want_readers * 2)) ] || fail "pcscd shows $got vscard readers, want $((want_readers * 2)):
$(readers)"
log "pcscd shows the $got readers of /etc/reader.conf.d/vscard-bridge"

# --- 3. the full flow with the installed binaries
vpcd=$(sed -n 's/^Environment="VSCARD_BRIDGE_VPCD=\(.*\)"$/\1/p' /usr/lib/systemd/user/vscard-bridge.service)
[ -n "$vpcd" ] || fail "the user unit names no readers"
sampled=$(mktemp); trap 'rm -f "$sampled"; cleanup' EXIT
seen=$(mktemp)
(while :; do listeners >>"$sampled"; loopback >>"$seen"; sleep 0.2; done) &
sampler=$!
set +e
VSCARD_SERVER_BIN=/usr/bin/vscard-server VSCARD_BRIDGE_BIN=/usr/bin/vscard-bridge \
  VSCARD_E2E_PCSCD=system VSCARD_BRIDGE_VPCD="$vpcd" npx playwright test e2e/fullflow.test.ts
rc=$?
set -e
kill "$sampler"; wait "$sampler" 2>/dev/null || true
[ "$rc" = 0 ] || fail "the full-flow e2e test failed on the installed packages"
[ ! -s "$sampled" ] || fail "listening beyond loopback during the e2e test:
$(sort -u "$sampled")"
[ -s "$seen" ] || fail "the socket table never showed the Desktop App's card port: the sampling is broken"
log "nothing of vscard or pcscd listened beyond loopback while the cards were made (the Desktop App on $(sort -u "$seen" | tr '\n' ' '))"
rm -f "$seen"

# --- 4. purge, and nothing is left
stop_pcscd
log "purging"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q vscard-bridge vscard-server >"$OUT/purge.log" 2>&1 ||
  fail "apt-get purge failed (see $OUT/purge.log)"
installed=0
for p in vscard-bridge vscard-server; do
  if dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
    fail "$p is still known to dpkg after purge"
  fi
done
left=""
while read -r f; do
  case $f in /. | /usr | /usr/* | /etc | /lib | /lib/systemd | /lib/systemd/system | /etc/reader.conf.d) [ -d "$f" ] && continue ;; esac
  [ -e "$f" ] && left+="$f"$'\n'
done <<<"$files"
for f in /var/lib/vscard /etc/vscard /etc/systemd/user/default.target.wants/vscard-bridge.service \
  /etc/systemd/system/multi-user.target.wants/vscard-server.service \
  /var/lib/systemd/deb-systemd-helper-enabled/vscard-server.service.dsh-also \
  /var/lib/systemd/deb-systemd-user-helper-enabled/vscard-bridge.service.dsh-also; do
  [ -e "$f" ] && left+="$f"$'\n'
done
[ -z "$left" ] || fail "left after purge:
$left"
! grep -rqs 'vscard-bridge' /etc/reader.conf.d || fail "a reader.conf entry names vscard-bridge after purge"
! getent passwd vscard >/dev/null || fail "the vscard user is left after purge"
[ -z "$(listeners)" ] || fail "listening after purge: $(listeners)"
start_pcscd
if readers | grep -qE '(Virtual PCD|vscard [0-9]+) 0[01] 0[01]'; then fail "pcscd still shows vscard readers after purge"; fi
stop_pcscd
log "purged: no files, reader.conf entries, unit links, user or listeners left"
log "OK"
