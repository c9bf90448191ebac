#!/usr/bin/env bash
# Prepares this machine to host virtual smart cards for `make run`: pcscd must be running
# with vsmartcard's vpcd driver (Debian's package configures it in /etc/reader.conf.d),
# and the vscard:// link must open the Desktop App.
set -euo pipefail
BRIDGE=${1:-bin/vscard-bridge}

if ! pgrep -x pcscd >/dev/null; then
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO systemctl restart pcscd.socket pcscd.service || true
  fi
  if ! pgrep -x pcscd >/dev/null; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO pcscd   # no systemd (a container): start the daemon directly
  fi
fi
echo "pcscd is running; vpcd readers: $(grep -h FRIENDLYNAME /etc/reader.conf.d/vpcd 2>/dev/null | tr '\n' ' ')"

# Register vscard:// with the desktop (a .desktop file and xdg-mime, when there is one).
"$BRIDGE" install || echo "note: could not register the vscard:// handler; run '$BRIDGE open <link>' by hand"
