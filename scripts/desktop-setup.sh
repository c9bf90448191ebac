#!/usr/bin/env bash
# Prepares this machine to host virtual smart cards for `make run`: pcscd must be running
# with vsmartcard's vpcd driver and VSCARD_READERS virtual readers (default 4), and the
# vscard:// link must open the Desktop App with those readers.
#
# The readers use vpcd's reversed mode: each reader.conf entry names DEVICENAME
# 127.0.0.1:<port>, and the driver connects out to the Desktop App, which listens on
# 127.0.0.1:<port> and <port>+1 while it holds a card there. Neither pcscd nor the Desktop
# App listens beyond loopback. That needs the driver scripts/build-vpcd.sh builds (make
# deps-run runs it): Debian bookworm's aborts pcscd in reversed mode whenever a card is
# removed. Debian's own entry, /etc/reader.conf.d/vpcd from vsmartcard-vpcd, runs the driver
# in its listening mode on every interface; when it is there, this diverts it out of pcscd's
# way (dpkg-divert; `dpkg-divert --rename --remove /etc/reader.conf.d/vpcd` brings it back).
#
# Every reader.conf entry gives two readers, "<FRIENDLYNAME> 00 00" and "... 00 01"; the
# first is "Virtual PCD" on ports 35963 and 35964, as Debian's was, so the Desktop App's
# defaults fit. Each further pair needs an entry of its own, and each entry its own copy of
# the driver file: the driver keeps its readers in one static array, and pcscd loads a driver
# file once for all entries naming it, so two entries with one LIBPATH share (and fight over)
# two readers. A copy, not a link: the dynamic loader would load a link to the same file once.
#
# VSCARD_READER_CONF_DIR and VSCARD_DRIVER_DIR move the files this reads and writes (for
# trying it out), VSCARD_VPCD_PORT the first port; VSCARD_SKIP_PCSCD=1 leaves pcscd alone.
set -euo pipefail
BRIDGE=${1:-bin/vscard-bridge}
READERS=${VSCARD_READERS:-4}
CONF_DIR=${VSCARD_READER_CONF_DIR:-/etc/reader.conf.d}
DRIVER_DIR=${VSCARD_DRIVER_DIR:-/usr/local/lib/vscard}
BASE_PORT=${VSCARD_VPCD_PORT:-35963}
DRIVER=$DRIVER_DIR/libifdvpcd.so
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

if ! [[ $READERS =~ ^[0-9]+$ ]] || [ "$READERS" -lt 1 ] || [ "$READERS" -gt 16 ]; then
  echo "VSCARD_READERS must be 1 to 16 (pcscd serves at most 16 readers), got '$READERS'" >&2
  exit 2
fi
if ! [[ $BASE_PORT =~ ^[0-9]+$ ]] || [ "$BASE_PORT" -lt 1024 ] || [ "$BASE_PORT" -gt $((65535 - 2 * 8)) ]; then
  echo "VSCARD_VPCD_PORT must be 1024 to $((65535 - 16)), got '$BASE_PORT'" >&2
  exit 2
fi
if [ ! -f "$DRIVER" ]; then
  echo "$DRIVER is missing: run scripts/build-vpcd.sh (make deps-run does)" >&2
  exit 1
fi

changed=0
# Debian's listening-mode entry must not load alongside ours.
if [ -e "$CONF_DIR/vpcd" ]; then
  if [ "$CONF_DIR" = /etc/reader.conf.d ]; then
    $SUDO mkdir -p /usr/local/lib/vscard
    $SUDO dpkg-divert --local --rename --divert /usr/local/lib/vscard/reader.conf.d-vpcd.debian \
      --add /etc/reader.conf.d/vpcd >/dev/null
  else
    echo "note: $CONF_DIR/vpcd (vpcd's listening mode) left in place" >&2
  fi
  changed=1
fi

# Entry 0 uses the built driver, every further entry a copy of it. The driver's stamp goes
# into the file, so a rebuilt driver changes it and pcscd is restarted to load it.
conf=$(mktemp); trap 'rm -f "$conf"' EXIT
printf '# Written by vscard scripts/desktop-setup.sh (vpcd reversed mode, loopback only).\n# driver: %s\n\n' \
  "$(cat "$DRIVER.stamp" 2>/dev/null || sha256sum <"$DRIVER")" >"$conf"
vpcd_flag=""
entries=$(( (READERS + 1) / 2 ))
for ((i = 0; i < entries; i++)); do
  port=$((BASE_PORT + 2 * i))
  lib=$DRIVER name="Virtual PCD"
  if [ "$i" -gt 0 ]; then
    lib="$DRIVER_DIR/libifdvpcd-$i.so" name="vscard $i"
    # install replaces the file; cp would rewrite it under a pcscd that has it mapped
    cmp -s "$DRIVER" "$lib" || $SUDO install -m 0644 "$DRIVER" "$lib"
  fi
  printf 'FRIENDLYNAME "%s"\nDEVICENAME   127.0.0.1:%d\nLIBPATH      %s\nCHANNELID    %d\n\n' \
    "$name" "$port" "$lib" "$port" >>"$conf"
  vpcd_flag+="${vpcd_flag:+;}127.0.0.1:$port=$name 00 00;127.0.0.1:$((port + 1))=$name 00 01"
done
if ! cmp -s "$conf" "$CONF_DIR/vscard"; then
  $SUDO install -m 0644 "$conf" "$CONF_DIR/vscard"; changed=1
fi

if [ "${VSCARD_SKIP_PCSCD:-}" != 1 ]; then
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    if [ "$changed" = 1 ] || ! pgrep -x pcscd >/dev/null; then
      $SUDO systemctl restart pcscd.socket pcscd.service || true
    fi
  else
    # No systemd (a container): pcscd reads reader.conf only when it starts.
    if [ "$changed" = 1 ] && [ -s /run/pcscd/pcscd.pid ]; then
      $SUDO kill "$(cat /run/pcscd/pcscd.pid)" || true
      for _ in $(seq 50); do pgrep -x pcscd >/dev/null || break; sleep 0.1; done
    fi
    pgrep -x pcscd >/dev/null || $SUDO pcscd
  fi
  echo "pcscd is running with $(( entries * 2 )) vpcd readers (reversed mode, loopback only)"
fi

# Register vscard:// with the desktop (a .desktop file and xdg-mime, when there is one), with
# the readers above.
"$BRIDGE" --vpcd "$vpcd_flag" install || echo "note: could not register the vscard:// handler; run '$BRIDGE --vpcd \"$vpcd_flag\" open <link>' by hand"
