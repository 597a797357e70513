#!/bin/sh
# Installs the arm64 .deb into an arm64 Debian root, under qemu, the way a
# Raspberry Pi running Debian bookworm gets it: apt resolves the package's
# Depends from Debian's archive (the mirror this machine uses), the
# maintainer scripts run, and `earshot check-config` passes on the config
# the package installed.
#
#   sudo sh systemd/test-arm64-root.sh bin/earshot_<version>_arm64.deb
#
# The root is made once by debootstrap (minbase) into .cache/arm64-root
# (ARM64_ROOT overrides) and never changed: each run installs into an
# overlay of it on a tmpfs, in a private mount namespace. Needs root,
# debootstrap and qemu-user-static with its binfmt handler enabled
# (`make deps-qemu`), and the network to the Debian mirror.
set -eu

deb=$(readlink -f "$1")
[ -f "$deb" ] || { echo "test-arm64-root: $1: no such package" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "test-arm64-root: needs root (debootstrap, chroot)" >&2; exit 1; }
[ "$(dpkg-deb -f "$deb" Architecture)" = arm64 ] || { echo "test-arm64-root: $deb is not an arm64 package" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "test-arm64-root: needs debootstrap (make deps-qemu)" >&2; exit 1; }
grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null ||
	{ echo "test-arm64-root: qemu-aarch64's binfmt handler is not enabled (make deps-qemu)" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
base=${ARM64_ROOT:-$here/../.cache/arm64-root}

if [ "${TEST_ARM64_INNER:-}" != 1 ]; then
	# The suite and mirror of this machine's own apt sources.
	. /etc/os-release
	suite=${VERSION_CODENAME:?}
	mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
	[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | grep -v security | head -1)
	mirror=${mirror:-http://deb.debian.org/debian}
	if [ ! -f "$base/.earshot-root" ]; then
		echo "test-arm64-root: debootstrap --arch=arm64 $suite from $mirror into $base (once)"
		rm -rf "$base"
		mkdir -p "$base"
		debootstrap --arch=arm64 --variant=minbase "$suite" "$base" "$mirror" >"$base.log" 2>&1 ||
			{ tail -20 "$base.log"; echo "FAIL  debootstrap (log: $base.log)"; exit 1; }
		echo "$suite $mirror" >"$base/.earshot-root"
	fi
	# Mounts made from here on are the namespace's alone.
	TEST_ARM64_INNER=1 exec unshare --mount --propagation private sh "$0" "$deb"
fi

fails=0
ok() { echo "ok    arm64 root: $*"; }
bad() { echo "FAIL  arm64 root: $*"; fails=$((fails + 1)); }

t=$(mktemp -d /tmp/earshot-arm64.XXXXXX)
trap 'cd / && umount -R "$t" 2>/dev/null; rmdir "$t"' EXIT
mount -t tmpfs -o size=2g tmpfs "$t"
mkdir "$t/up" "$t/work" "$t/root"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$t/up,workdir=$t/work" "$t/root"
r=$t/root
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
cp /etc/resolv.conf "$r/etc/resolv.conf"
cp "$deb" "$r/root/earshot.deb"
in_root() { chroot "$r" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

arch=$(in_root dpkg --print-architecture)
foreign=$(in_root dpkg --print-foreign-architectures)
if [ "$arch" = arm64 ] && [ -z "$foreign" ] && in_root uname -m | grep -qx aarch64; then
	ok "dpkg architecture arm64 only, uname -m aarch64"
else
	bad "root is $arch (foreign: $foreign), not a plain arm64 root"
fi

# apt, not dpkg -i: the Depends must resolve from the archive alone.
if in_root sh -c 'apt-get update -qq && apt-get install -y --no-install-recommends /root/earshot.deb' >"$t/apt.log" 2>&1; then
	ok "apt-get install ./earshot.deb: Depends resolved ($(dpkg-deb -f "$deb" Depends))"
else
	sed 's/^/      /' "$t/apt.log"
	bad "apt-get install ./earshot.deb"
fi
if in_root dpkg-query -W -f='${Status} ${Architecture}\n' earshot | grep -qx 'install ok installed arm64' &&
	in_root dpkg --audit >"$t/audit" 2>&1 && [ ! -s "$t/audit" ]; then
	ok "earshot installed, dpkg --audit clean"
else
	cat "$t/audit" 2>/dev/null
	bad "earshot not cleanly installed"
fi
if in_root getent passwd earshot >/dev/null && [ "$(in_root stat -c '%a %U:%G' /etc/earshot/mqtt.pass)" = "640 root:earshot" ]; then
	ok "postinst made user earshot and /etc/earshot/mqtt.pass (0640 root:earshot)"
else
	bad "postinst did not make the user or the password file"
fi
if [ -s "$r/usr/share/earshot/models/embedding_model.onnx" ] && [ -s "$r/usr/share/earshot/models/melspectrogram.onnx" ]; then
	ok "speech embedding in /usr/share/earshot/models"
else
	bad "no speech embedding in /usr/share/earshot/models"
fi

if in_root earshot version >"$t/version" 2>&1 && grep -q '^engine  pocketsphinx (cgo' "$t/version" && grep -q 'GOARCH=arm64' "$t/version"; then
	ok "earshot version: $(grep '^build' "$t/version")"
else
	cat "$t/version"
	bad "earshot version does not report PocketSphinx on arm64"
fi
if in_root earshot check-config /etc/earshot/earshot.yaml >"$t/check" 2>&1; then
	ok "earshot check-config /etc/earshot/earshot.yaml: $(tail -1 "$t/check")"
else
	sed 's/^/      /' "$t/check"
	bad "earshot check-config /etc/earshot/earshot.yaml"
fi
# The check can fail: a wake phrase the dictionary does not know.
sed 's/^  phrase: .*/  phrase: hey qwxzjarvis/' "$r/etc/earshot/earshot.yaml" >"$r/root/bad.yaml"
if in_root earshot check-config /root/bad.yaml >"$t/bad" 2>&1; then
	bad "check-config passed a wake phrase outside the dictionary"
elif grep -q 'bad.yaml:[0-9]*:' "$t/bad"; then
	ok "check-config refuses a bad config with FILE:LINE"
else
	cat "$t/bad"
	bad "check-config's refusal names no FILE:LINE"
fi

[ "$fails" = 0 ] || exit 1
