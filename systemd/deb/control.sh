#!/bin/sh
# Prints the DEBIAN/control of the earshot package staged in ROOT.
#   control.sh VERSION ARCH ROOT
# Depends is derived from the shared libraries the binary really links
# (readelf works for any target architecture), so a cgo build pulls in
# PocketSphinx and PortAudio and a pure-Go build does not.
set -eu
version=$1
arch=$2
root=$3
bin=$root/usr/bin/earshot

deps="systemd, init-system-helpers"
for lib in $(readelf -d "$bin" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
	case $lib in
	libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*) pkg="libc6" ;;
	libpocketsphinx.so.3) pkg="libpocketsphinx3, pocketsphinx-en-us" ;;
	libsphinxbase.so.3) pkg="libsphinxbase3" ;;
	libportaudio.so.2) pkg="libportaudio2" ;;
	*)
		echo "control.sh: $bin links $lib, which no Depends entry covers; add it to systemd/deb/control.sh" >&2
		exit 1
		;;
	esac
	case ", $deps, " in
	*", $pkg, "*) ;;
	*) deps="$deps, $pkg" ;;
	esac
done

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat <<CONTROL
Package: earshot
Version: $version
Architecture: $arch
Maintainer: earshot maintainers <earshot@localhost>
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
