#!/usr/bin/env bash
# Prepares this machine to host virtual smart cards for `make run`: pcscd must be running
# with vsmartcard's vpcd driver and VSCARD_READERS virtual readers (default 4), and the
# vscard:// link must open the Desktop App with those readers.
#
# Debian's vsmartcard-vpcd package configures one reader.conf entry, /etc/reader.conf.d/vpcd,
# with two readers: "Virtual PCD 00 00" and "Virtual PCD 00 01" on TCP ports 35963 and 35964.
# Each further pair of readers needs an entry of its own, and each entry its own copy of the
# driver file: the driver keeps its readers in one static array, and pcscd loads a driver file
# once for all entries naming it, so two entries with one LIBPATH share (and fight over) two
# readers. A copy, not a link: the dynamic loader would load a link to the same file once.
#
# vpcd listens on its ports on every network interface (its reversed mode, which would not
# listen at all, aborts bookworm's pcscd whenever a card is removed; see
# desktop-bridge/pcsctest/reversed_test.go). Block the ports in a firewall on a shared network.
#
# VSCARD_READER_CONF_DIR and VSCARD_DRIVER_DIR move the files this writes (for trying it out);
# VSCARD_SKIP_PCSCD=1 leaves pcscd alone.
set -euo pipefail
BRIDGE=${1:-bin/vscard-bridge}
READERS=${VSCARD_READERS:-4}
CONF_DIR=${VSCARD_READER_CONF_DIR:-/etc/reader.conf.d}
DRIVER_DIR=${VSCARD_DRIVER_DIR:-/usr/local/lib/vscard}
DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
BASE_PORT=35963   # Debian's entry: 35963 and 35964; ours follow
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

if ! [[ $READERS =~ ^[0-9]+$ ]] || [ "$READERS" -lt 1 ] || [ "$READERS" -gt 16 ]; then
  echo "VSCARD_READERS must be 1 to 16 (pcscd serves at most 16 readers), got '$READERS'" >&2
  exit 2
fi

# Readers 1 and 2 come from Debian's entry; every further pair from an entry in
# $CONF_DIR/vscard with its own driver copy.
conf=$(mktemp); trap 'rm -f "$conf"' EXIT
vpcd_flag="127.0.0.1:35963=Virtual PCD 00 00;127.0.0.1:35964=Virtual PCD 00 01"
entries=$(( (READERS + 1) / 2 ))
for ((i = 1; i < entries; i++)); do
  port=$((BASE_PORT + 2 * i))
  lib="$DRIVER_DIR/libifdvpcd-$i.so"
  $SUDO mkdir -p "$DRIVER_DIR"
  cmp -s "$DRIVER" "$lib" || $SUDO cp "$(readlink -f "$DRIVER")" "$lib"
  printf 'FRIENDLYNAME "vscard %d"\nDEVICENAME   /dev/null:%d\nLIBPATH      %s\nCHANNELID    %d\n\n' \
    "$i" "$port" "$lib" "$port" >>"$conf"
  vpcd_flag+=";127.0.0.1:$port=vscard $i 00 00;127.0.0.1:$((port + 1))=vscard $i 00 01"
done
changed=0
if [ "$entries" -gt 1 ]; then
  if ! cmp -s "$conf" "$CONF_DIR/vscard"; then
    $SUDO install -m 0644 "$conf" "$CONF_DIR/vscard"; changed=1
  fi
elif [ -e "$CONF_DIR/vscard" ]; then
  $SUDO rm -f "$CONF_DIR/vscard"; changed=1
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
  echo "pcscd is running with $(( entries * 2 )) vpcd readers"
fi

# Register vscard:// with the desktop (a .desktop file and xdg-mime, when there is one), with
# the readers above.
"$BRIDGE" --vpcd "$vpcd_flag" install || echo "note: could not register the vscard:// handler; run '$BRIDGE --vpcd \"$vpcd_flag\" open <link>' by hand"
