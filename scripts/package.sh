#!/usr/bin/env bash
# Builds the Debian packages (make package):
#   vscard-bridge_<version>_<arch>.deb  the Desktop App, its vpcd driver, readers and handlers
#   vscard-server_<version>_<arch>.deb  the server as a sandboxed systemd service
# into $VSCARD_PACKAGE_DIR (default dist/). The Self-Service app must be built first
# (frontend/dist, `make frontend`): the server embeds it.
#
# Each package is a tree staged here with dpkg-deb --build: the control file, the maintainer
# scripts and the unit files are in packaging/ as they will be installed, and this script
# only fills in the version, the readers and what dpkg-shlibdeps finds the binaries need.
# Why not debhelper: it wants a debian/ source package around a build it drives itself,
# for two binaries `go build` makes in one line. Why not nfpm: it is a second packaging
# model (YAML) with its own dependency tree in go.mod, and these packages need nothing it
# adds: dpkg-deb is what every .deb is built with in the end, is on every Debian machine,
# and lintian checks the result.
#
# The bridge package ships vsmartcard's vpcd driver built by scripts/build-vpcd.sh (Debian's
# source with our patch): bookworm's vsmartcard-vpcd aborts pcscd in the reversed,
# loopback-only mode vscard uses, and its own reader.conf entry listens on every interface
# on the ports vscard's readers use, so the package conflicts with it rather than depending
# on it.
#
# VSCARD_VERSION overrides the version (default 0.1.0~git<commit date>.<commit>),
# VSCARD_READERS the number of readers (default 4: two reader.conf entries).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

OUT=${VSCARD_PACKAGE_DIR:-$root/dist}
READERS=${VSCARD_READERS:-4}
BASE_PORT=35963
MAINTAINER=${VSCARD_MAINTAINER:-vscard maintainers <vscard@users.noreply.github.com>}
ARCH=$(dpkg --print-architecture)
if [ -z "${VSCARD_VERSION:-}" ]; then
  VSCARD_VERSION="0.1.0~git$(git log -1 --format=%cd --date=format:%Y%m%d%H%M).$(git rev-parse --short=8 HEAD)"
fi
VERSION=$VSCARD_VERSION
if ! [[ $READERS =~ ^[0-9]+$ ]] || [ "$READERS" -lt 1 ] || [ "$READERS" -gt 16 ]; then
  echo "package: VSCARD_READERS must be 1 to 16, got '$READERS'" >&2; exit 2
fi
[ -f frontend/dist/index.html ] || { echo "package: frontend/dist is not built (make frontend)" >&2; exit 1; }

scripts/apt-install.sh dpkg-dev gcc pkg-config libpcsclite-dev help2man
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
umask 022

# --- binaries: position-independent, hardened C parts (cgo), stripped, reproducible paths
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
CGO_CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
CGO_LDFLAGS=$(dpkg-buildflags --get LDFLAGS)
export CGO_CFLAGS CGO_LDFLAGS CGO_ENABLED=1
# External linking, so that the hardening flags' -z relro -z now reach the executables.
goflags=(-trimpath -buildmode=pie -ldflags "-s -w -linkmode=external -X main.version=$VERSION")
go build "${goflags[@]}" -o "$work/vscard-server" ./server/cmd/vscard-server
go build "${goflags[@]}" -o "$work/vscard-bridge" ./desktop-bridge/cmd/vscard-bridge
# As dh_strip does: the compiler's notes are not needed at run time.
strip --remove-section=.comment --remove-section=.note "$work/vscard-server" "$work/vscard-bridge"

# --- the vpcd driver, built once per source version and patch (build-vpcd.sh's stamp)
VSCARD_DRIVER_DIR="$root/dist/.vpcd" scripts/build-vpcd.sh
driver=$work/libifdvpcd.so
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
  -o "$driver" "$root/dist/.vpcd/libifdvpcd.so"

# --- the readers: entry 0 is "Virtual PCD" on 35963/35964 (the Desktop App's defaults),
# each further pair an entry of its own with its own copy of the driver (desktop-setup.sh
# and the README say why a copy). VPCD is the Desktop App's list of the same readers.
reader_conf=$work/reader.conf
VPCD=""
{
  printf '# vscard Desktop App readers: vsmartcard vpcd in reversed mode (loopback only).\n'
  printf '# The driver connects to the Desktop App on 127.0.0.1; nothing listens beyond loopback.\n'
  printf '# The Desktop App names the same readers (VSCARD_BRIDGE_VPCD in its user unit,\n'
  printf '# /usr/lib/systemd/user/vscard-bridge.service): change both together.\n\n'
  for ((i = 0; i < (READERS + 1) / 2; i++)); do
    port=$((BASE_PORT + 2 * i)) lib=/usr/lib/vscard-bridge/libifdvpcd.so name="Virtual PCD"
    [ "$i" = 0 ] || lib=/usr/lib/vscard-bridge/libifdvpcd-$i.so name="vscard $i"
    printf 'FRIENDLYNAME "%s"\nDEVICENAME   127.0.0.1:%d\nLIBPATH      %s\nCHANNELID    %d\n\n' "$name" "$port" "$lib" "$port"
    VPCD+="${VPCD:+;}127.0.0.1:$port=$name 00 00;127.0.0.1:$((port + 1))=$name 00 01"
  done
} >"$reader_conf"
entries=$(((READERS + 1) / 2))

# changelog writes a native package's changelog, as lintian expects it.
changelog() {
  {
    printf '%s (%s) unstable; urgency=medium\n\n' "$1" "$VERSION"
    printf '  * Built by make package from vscard commit %s.\n\n' "$(git rev-parse --short=12 HEAD)"
    printf ' -- %s  %s\n' "$MAINTAINER" "$(git log -1 --format=%cd --date=rfc2822)"
  } | gzip -9n >"$2"
}

# manpage writes section $3 of $1's man page from its --help.
manpage() {
  help2man --no-info --no-discard-stderr --section="$3" --version-string="$VERSION" \
    --name="$2" "$work/$1" | gzip -9n >"$4"
}

# shlibs prints the Depends dpkg-shlibdeps finds for the ELF files given.
shlibs() {
  mkdir -p "$work/shlibs/debian"
  printf 'Source: vscard\n\nPackage: vscard\nArchitecture: any\n' >"$work/shlibs/debian/control"
  (cd "$work/shlibs" && dpkg-shlibdeps -O "$@" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

# control writes DEBIAN/control from packaging/<pkg>/control with the fields filled in.
control() {
  local pkg=$1 tree=$2 depends=$3
  local size; size=$(du -sk --exclude=DEBIAN "$tree" | cut -f1)
  sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
    -e "s|@SIZE@|$size|" -e "s|@DEPENDS@|$depends|" "packaging/$pkg/control" >"$tree/DEBIAN/control"
}

# finish adds the maintainer scripts (from packaging/<dir>), conffiles and md5sums, and
# builds the package.
finish() {
  local dir=$1 pkg=$2 tree=$3
  for s in postinst prerm postrm; do install -m 0755 "packaging/$dir/$s" "$tree/DEBIAN/$s"; done
  (cd "$tree" && find etc -type f -printf '/%p\n' | sort) >"$tree/DEBIAN/conffiles"
  (cd "$tree" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$tree/DEBIAN/md5sums"
  chmod 0644 "$tree/DEBIAN/conffiles" "$tree/DEBIAN/md5sums" "$tree/DEBIAN/control"
  mkdir -p "$OUT"
  dpkg-deb --root-owner-group -Zxz --build "$tree" "$OUT/${pkg}_${VERSION}_${ARCH}.deb" >/dev/null
  echo "package: $OUT/${pkg}_${VERSION}_${ARCH}.deb"
}

# --- vscard-bridge
t=$work/bridge
install -d "$t/DEBIAN" "$t/usr/bin" "$t/usr/lib/vscard-bridge" "$t/etc/reader.conf.d" \
  "$t/usr/lib/systemd/user" "$t/usr/share/applications" "$t/usr/share/doc/vscard-bridge" \
  "$t/usr/share/man/man1" "$t/usr/share/lintian/overrides"
install -m 0755 "$work/vscard-bridge" "$t/usr/bin/"
install -m 0644 "$driver" "$t/usr/lib/vscard-bridge/libifdvpcd.so"
for ((i = 1; i < entries; i++)); do
  install -m 0644 "$driver" "$t/usr/lib/vscard-bridge/libifdvpcd-$i.so"
done
install -m 0644 "$reader_conf" "$t/etc/reader.conf.d/vscard-bridge"
sed "s|@VPCD@|$VPCD|" packaging/bridge/vscard-bridge.service >"$t/usr/lib/systemd/user/vscard-bridge.service"
sed "s|@VPCD@|$VPCD|" packaging/bridge/vscard-bridge.desktop >"$t/usr/share/applications/vscard-bridge.desktop"
chmod 0644 "$t/usr/lib/systemd/user/vscard-bridge.service" "$t/usr/share/applications/vscard-bridge.desktop"
years="$(git log --reverse --format=%ad --date=format:%Y | head -1)-$(git log -1 --format=%ad --date=format:%Y)"
cat packaging/copyright packaging/copyright-vpcd | sed "s|@YEARS@|$years|" >"$t/usr/share/doc/vscard-bridge/copyright"
install -m 0644 scripts/patches/vpcd-reversed-reconnect.patch "$t/usr/share/doc/vscard-bridge/"
changelog vscard-bridge "$t/usr/share/doc/vscard-bridge/changelog.gz"
manpage vscard-bridge "vscard Desktop App: virtual PIV smart cards for the vscard portal" 1 "$t/usr/share/man/man1/vscard-bridge.1.gz"
install -m 0644 packaging/bridge/lintian-overrides "$t/usr/share/lintian/overrides/vscard-bridge"
control bridge "$t" "$(shlibs "$t/usr/bin/vscard-bridge" "$t/usr/lib/vscard-bridge/libifdvpcd.so")"
finish bridge vscard-bridge "$t"

# --- vscard-server
t=$work/server
install -d "$t/DEBIAN" "$t/usr/bin" "$t/etc/vscard" "$t/lib/systemd/system" \
  "$t/usr/share/doc/vscard-server" "$t/usr/share/man/man8" "$t/usr/share/lintian/overrides"
install -m 0755 "$work/vscard-server" "$t/usr/bin/"
install -m 0600 packaging/server/vscard.env "$t/etc/vscard/vscard.env"
install -m 0644 packaging/server/vscard-server.service "$t/lib/systemd/system/"
sed "s|@YEARS@|$years|" packaging/copyright >"$t/usr/share/doc/vscard-server/copyright"
changelog vscard-server "$t/usr/share/doc/vscard-server/changelog.gz"
manpage vscard-server "vscard server: Self-Service portal, GraphQL API and CA for virtual smart cards" 8 "$t/usr/share/man/man8/vscard-server.8.gz"
install -m 0644 packaging/server/lintian-overrides "$t/usr/share/lintian/overrides/vscard-server"
control server "$t" "$(shlibs "$t/usr/bin/vscard-server")"
finish server vscard-server "$t"
