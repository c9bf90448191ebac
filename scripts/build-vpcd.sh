#!/usr/bin/env bash
# Builds vsmartcard's vpcd reader driver for pcscd from Debian's own source package, with
# scripts/patches/vpcd-reversed-reconnect.patch applied, and installs it as
# $VSCARD_DRIVER_DIR/libifdvpcd.so (default /usr/local/lib/vscard). The packaged driver, if
# any, is left as it is.
#
# Why build it: vscard runs vpcd in reversed mode (reader.conf DEVICENAME 127.0.0.1:<port>:
# the driver connects out to the card process, which listens on loopback only), so nothing
# listens on the network. Debian bookworm's driver (vsmartcard 3.3, virtualsmartcard 0.8)
# aborts pcscd in that mode whenever a connection drops, that is whenever a card is removed;
# upstream fixed it in virtualsmartcard 0.9, which bookworm does not have. The patch's header
# says what it changes and where each part comes from.
#
# Only the driver is built (ifd-vpcd.c with vpcd.c and lock.c, the files of the package's
# libifdvpcd.so), with Debian's hardening flags and the configuration the package's build
# uses (two slots per reader.conf entry, pcscd's log function), so it needs only gcc and
# libpcsclite-dev, not the package's autotools, Python and Qt build dependencies.
#
# Idempotent: a stamp beside the driver names the source version and the hashes of this
# script and the patch; when they match, nothing is fetched or built. Needs a deb-src entry
# for the release's main component; when apt has none, this adds one
# (/etc/apt/sources.list.d/vscard-src.sources) for the mirror the machine's own entry uses.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATCH=$here/patches/vpcd-reversed-reconnect.patch
DEST=${VSCARD_DRIVER_DIR:-/usr/local/lib/vscard}
DRIVER=$DEST/libifdvpcd.so
STAMP=$DRIVER.stamp
SRC_LIST=/etc/apt/sources.list.d/vscard-src.sources
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
# The destination needs root only when it is not the caller's (make package builds into
# the work tree).
DEST_SUDO=$SUDO
if [ -n "$SUDO" ] && mkdir -p "$DEST" 2>/dev/null && [ -w "$DEST" ]; then DEST_SUDO=""; fi

"$here/apt-install.sh" gcc libc6-dev dpkg-dev libpcsclite-dev pkg-config

# The newest source version apt knows, e.g. 3.3+dfsg-2; empty without a deb-src entry.
source_version() {
  { apt-cache showsrc --only-source vsmartcard 2>/dev/null || true; } | sed -n 's/^Version: //p' | sort -V | tail -1
}
stamp_key() {
  echo "vsmartcard $1 $(cat "$here/build-vpcd.sh" "$PATCH" | sha256sum | cut -d' ' -f1)"
}

ver=$(source_version)
if [ -n "$ver" ] && [ -f "$DRIVER" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$(stamp_key "$ver")" ]; then
  exit 0
fi

if [ -z "$ver" ]; then
  # Mirror and key of the machine's own entry for this release's main component.
  . /etc/os-release
  entry=$(apt-get indextargets --format '$(REPO_URI) $(SOURCESENTRY)' \
    "Identifier: Packages" "Release: $VERSION_CODENAME" "Component: main" | head -1)
  [ -n "$entry" ] || { echo "build-vpcd: apt has no entry for $VERSION_CODENAME main" >&2; exit 1; }
  uri=${entry%% *}; where=${entry#* }; file=${where%:*}; line=${where##*:}
  case $file in
    *.sources) signed=$(awk -v n="$line" 'NR >= n && /^$/ {exit} NR >= n && /^Signed-By:/ {print $2}' "$file") ;;
    *) signed=$(sed -n "${line}p" "$file" | sed -n 's/.*signed-by=\([^] ]*\).*/\1/p') ;;
  esac
  if [ -n "$signed" ] && [ "${signed#/}" = "$signed" ]; then # an inline key: not copied here
    echo "build-vpcd: add a deb-src entry for $VERSION_CODENAME main by hand ($file:$line)" >&2; exit 1
  fi
  echo "build-vpcd: adding a deb-src entry for $VERSION_CODENAME main ($SRC_LIST)"
  {
    printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\n' "$uri" "$VERSION_CODENAME"
    [ -z "$signed" ] || printf 'Signed-By: %s\n' "$signed"
  } | $SUDO tee "$SRC_LIST" >/dev/null
  $SUDO apt-get update -q
  ver=$(source_version)
  [ -n "$ver" ] || { echo "build-vpcd: apt still finds no source for vsmartcard" >&2; exit 1; }
fi

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
echo "build-vpcd: building the vpcd driver from Debian's vsmartcard $ver with $(basename "$PATCH")"
# apt checks the files against the signed index; dpkg-source only warns that it has no key
# for the uploader's signature.
(cd "$work" && apt-get source -q --download-only "vsmartcard=$ver" &&
  dpkg-source -x "vsmartcard_${ver#*:}.dsc" src) >"$work/log" 2>&1 ||
  { cat "$work/log" >&2; echo "build-vpcd: could not fetch or unpack the vsmartcard source" >&2; exit 1; }
patch -d "$work/src" -p1 --quiet --no-backup-if-mismatch <"$PATCH"

s=$work/src/virtualsmartcard/src
export DEB_BUILD_MAINT_OPTIONS=hardening=+all   # as debian/rules builds the package
# shellcheck disable=SC2046
gcc -shared -fPIC -o "$work/libifdvpcd.so" \
  $(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS) \
  $(pkg-config --cflags libpcsclite) -I"$s/vpcd" \
  -DVPCDSLOTS=2 -DHAVE_DEBUGLOG_H=1 -DHAVE_DECL_MSG_NOSIGNAL=1 -DHAVE_DECL_SO_NOSIGPIPE=0 \
  "$s/ifd-vpcd/ifd-vpcd.c" "$s/vpcd/vpcd.c" "$s/vpcd/lock.c" \
  $(dpkg-buildflags --get LDFLAGS)   # log_msg is pcscd's, resolved when pcscd loads the driver

$DEST_SUDO install -d "$DEST"
$DEST_SUDO install -m 0644 "$work/libifdvpcd.so" "$DRIVER"
stamp_key "$ver" | $DEST_SUDO tee "$STAMP" >/dev/null
echo "build-vpcd: installed $DRIVER"
