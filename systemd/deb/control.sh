#!/bin/sh
# Prints the DEBIAN/control of the earshot package staged in ROOT.
#   control.sh VERSION ARCH ROOT MAINTAINER
# Depends comes from dpkg-shlibdeps: the packages, with versions, that hold
# the shared libraries the binary links and the symbol versions it uses
# (libc6 (>= 2.34), not just libc6), so a cgo build pulls in PocketSphinx
# and PortAudio and a pure-Go build does not.
set -eu
version=$1
arch=$2
root=$3
maintainer=$4
bin=$(cd "$root" && pwd)/usr/bin/earshot

# dpkg-shlibdeps wants a debian/control in the directory it runs in, and
# finds the package root by its DEBIAN directory.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/debian" && : >"$work/debian/control"
if ! shlibs=$(cd "$work" && DEB_HOST_ARCH=$arch dpkg-shlibdeps -O "$bin" 2>"$work/err"); then
	echo "control.sh: dpkg-shlibdeps $bin failed:" >&2
	cat "$work/err" >&2
	exit 1
fi
libs=${shlibs#shlibs:Depends=}

# deb-systemd-helper/-invoke and systemd-sysusers in the maintainer scripts.
deps="systemd, init-system-helpers (>= 1.52)"
[ -n "$libs" ] && deps="$deps, $libs"
# The acoustic model is data, not a library: dpkg-shlibdeps cannot see it.
case $libs in *libpocketsphinx*) deps="$deps, pocketsphinx-en-us" ;; esac

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat <<CONTROL
Package: earshot
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $deps
Recommends: alsa-utils
Section: sound
Priority: optional
Homepage: https://github.com/earshot/earshot
Description: private on-device voice control daemon for smart speakers
 earshot hears a wake word and understands short commands on the device
 itself with PocketSphinx. Recordings and transcripts stay in a local
 encrypted ring buffer with a hard retention window; the home hub gets
 only action records over MQTT ("LightsOn, room=kitchen"), never what was
 said. A GPIO button mutes the microphone (held 5 s: wipes the history).
CONTROL
