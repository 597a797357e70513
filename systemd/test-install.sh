#!/usr/bin/env bash
# Tests `make install` and `make deb`: the installed tree, the units
# (systemd-analyze verify, security exposure <= 2.0), the .deb's metadata,
# contents and maintainer scripts. Called by `make test`.
#   EARSHOT_LONG=1 also boots the .deb under systemd-nspawn (test-nspawn.sh,
#   if root and systemd-container are there), cross-builds `make deb
#   ARCH=arm64` and runs it under qemu: version, check-config, `earshot eval`
#   on a small generated corpus against this machine's build file by file
#   (audio/eval/archdiff.sh), and the package in an arm64 Debian root
#   (test-arm64-root.sh, if root).
set -euo pipefail

cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >"$work/out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/      /' "$work/out"; fi
}
mode_is() { [ "$(stat -c %a "$2")" = "$1" ] || { echo "$2: mode $(stat -c %a "$2"), want $1"; return 1; }; }

units=(earshot.service earshot-purge.service earshot-purge.timer)

# --- make install into a DESTDIR ---------------------------------------------
root=$work/root
$MAKE -s install DESTDIR="$root" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "make install"; exit 1; }
pass "make install DESTDIR=…"

expect_files() {
	local r=$1
	mode_is 755 "$r/usr/bin/earshot"
	for u in "${units[@]}"; do mode_is 644 "$r/usr/lib/systemd/system/$u"; done
	mode_is 644 "$r/usr/lib/sysusers.d/earshot.conf"
	mode_is 644 "$r/usr/lib/udev/rules.d/60-earshot-gpio.rules"
	mode_is 644 "$r/usr/share/doc/earshot/install.md"
	mode_is 644 "$r/usr/share/doc/earshot/copyright"
	mode_is 644 "$r/usr/share/man/man1/earshot.1.gz"
	mode_is 644 "$r/etc/earshot/earshot.yaml"
	mode_is 644 "$r/etc/earshot/intents.yaml"
}
check "installed files and modes" expect_files "$root"
check "mqtt.pass placeholder is 0640 and empty" bash -c "[ \"\$(stat -c %a '$root/etc/earshot/mqtt.pass')\" = 640 ] && [ ! -s '$root/etc/earshot/mqtt.pass' ]"
check "installed binary runs" "$root/usr/bin/earshot" version

# A second install keeps the admin's config and password.
echo "# edited" >>"$root/etc/earshot/earshot.yaml"
echo "s3cret" >"$root/etc/earshot/mqtt.pass"
$MAKE -s install DESTDIR="$root" >"$work/install2.log" 2>&1 || { cat "$work/install2.log"; fail "second make install"; }
check "reinstall keeps an edited earshot.yaml, ships earshot.yaml.dist" \
	bash -c "grep -q '# edited' '$root/etc/earshot/earshot.yaml' && cmp -s configs/earshot.yaml '$root/etc/earshot/earshot.yaml.dist'"
check "reinstall keeps mqtt.pass" grep -qx s3cret "$root/etc/earshot/mqtt.pass"

# PREFIX and SYSCONFDIR reach the units.
lroot=$work/local
$MAKE -s install DESTDIR="$lroot" PREFIX=/usr/local SYSCONFDIR=/usr/local/etc >"$work/install3.log" 2>&1 || { cat "$work/install3.log"; fail "make install PREFIX=/usr/local"; }
check "PREFIX=/usr/local: units run /usr/local/bin/earshot with /usr/local/etc/earshot" bash -c "
	u='$lroot/usr/local/lib/systemd/system/earshot.service'
	grep -q '^ExecStart=/usr/local/bin/earshot run --config /usr/local/etc/earshot/earshot.yaml\$' \"\$u\" &&
	! grep -q '/usr/bin/earshot\|=/etc/earshot' \"\$u\" $lroot/usr/local/lib/systemd/system/earshot-purge.service"

# --- the units ---------------------------------------------------------------
# verify checks that executables exist, so point the units at the installed
# binary; any message at all (unknown key, bad value) is a failure.
vdir=$work/verify
mkdir -p "$vdir"
for u in "${units[@]}"; do
	sed "s|/usr/bin/earshot|$root/usr/bin/earshot|g" "$root/usr/lib/systemd/system/$u" >"$vdir/$u"
done
verify() { (cd "$vdir" && systemd-analyze verify "${units[@]/#/./}" 2>&1) | tee "$work/verify.out"; [ ! -s "$work/verify.out" ]; }
check "systemd-analyze verify: no warnings" verify

exposure() { # exposure UNIT -> prints the overall exposure number
	systemd-analyze security --offline=yes "$1" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}
for u in earshot.service earshot-purge.service; do
	score=$(exposure "systemd/$u")
	check "$u exposure $score <= $MAX_EXPOSURE" awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s != "" && s + 0 <= m + 0) }'
done
# shellcheck disable=SC2016 # the script is for the inner bash
check "earshot.service keeps its required settings" bash -c '
	u=systemd/earshot.service
	for k in "Type=notify" "WatchdogSec=" "Restart=on-failure" "User=earshot" "SupplementaryGroups=audio gpio" \
		"StateDirectory=earshot" "RuntimeDirectory=earshot" "RuntimeDirectoryMode=0750" \
		"ExecStartPre=/usr/bin/earshot purge" "ExecStopPost=/usr/bin/earshot purge" \
		"ExecReload=/usr/bin/earshot check-config" \
		"DeviceAllow=char-alsa rw" "DeviceAllow=char-gpiochip rw" "BindPaths=-/dev/snd" \
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" "LimitCORE=0" "MemorySwapMax=0"; do
		grep -q "^$k" $u || { echo "missing $k"; exit 1; }
	done'

# shellcheck disable=SC2016 # the script is for the inner bash
check "earshot.service checks the config before it signals a reload" bash -c '
	sed -n "s/^ExecReload=//p" systemd/earshot.service | tr "\n" "|" |
		grep -qx "/usr/bin/earshot check-config /etc/earshot/earshot.yaml|/bin/kill -HUP \$MAINPID|"'

sysroot=$work/sysusers
mkdir -p "$sysroot/etc"
check "sysusers creates user earshot, groups earshot and gpio" bash -c "
	systemd-sysusers --root='$sysroot' '$PWD/systemd/earshot.sysusers' &&
	grep -q '^earshot:x:[0-9]*:[0-9]*:.*:/var/lib/earshot:/usr/sbin/nologin\$' '$sysroot/etc/passwd' &&
	grep -q '^earshot:' '$sysroot/etc/group' && grep -q '^gpio:' '$sysroot/etc/group'"

# --- make deb ----------------------------------------------------------------
deb_check() { # deb_check DEB ARCH
	local deb=$1 arch=$2 x=$work/x-$2
	check "$arch: dpkg-deb -I: package, arch, version" bash -c "
		dpkg-deb -f '$deb' Package | grep -qx earshot &&
		dpkg-deb -f '$deb' Architecture | grep -qx '$arch' &&
		dpkg-deb -f '$deb' Version | grep -q '^[0-9]'"
	check "$arch: conffiles are the two configs" bash -c "
		dpkg-deb --ctrl-tarfile '$deb' | tar -xO ./conffiles | sort | diff - <(printf '/etc/earshot/earshot.yaml\n/etc/earshot/intents.yaml\n')"
	check "$arch: maintainer scripts are executable shell" bash -c "
		mkdir -p '$x/DEBIAN' && dpkg-deb -e '$deb' '$x/DEBIAN' &&
		for s in postinst prerm postrm; do [ -x '$x/DEBIAN/'\$s ] && sh -n '$x/DEBIAN/'\$s || exit 1; done &&
		grep -q 'systemd-sysusers' '$x/DEBIAN/postinst' && grep -q 'deb-systemd-helper enable' '$x/DEBIAN/postinst'"
	check "$arch: dpkg-deb -c: files owned by root, no mqtt.pass" bash -c "
		dpkg-deb -c '$deb' >'$x.list' &&
		! grep -v ' root/root ' '$x.list' && ! grep -q mqtt.pass '$x.list' &&
		grep -q ' ./usr/bin/earshot\$' '$x.list' && grep -q ' ./usr/lib/systemd/system/earshot.service\$' '$x.list' &&
		grep -q ' ./usr/lib/systemd/system/earshot-purge.timer\$' '$x.list' && grep -q ' ./usr/lib/sysusers.d/earshot.conf\$' '$x.list'"
	# lintian 2.116 (bookworm): not one error or warning.
	check "$arch: lintian, no errors or warnings" lintian --allow-root --fail-on error,warning "$deb"
	check "$arch: Depends asks libc6 for the newest GLIBC symbol version the binary uses" bash -c "
		dpkg-deb -x '$deb' '$x/glibc' &&
		need=\$(objdump -T '$x/glibc/usr/bin/earshot' | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1) &&
		if [ -z \"\$need\" ]; then exit 0; fi &&
		have=\$(dpkg-deb -f '$deb' Depends | grep -o 'libc6 (>= [0-9.]*)' | grep -o '[0-9][0-9.]*') &&
		dpkg --compare-versions \"\$have\" ge \"\$need\" || { echo \"binary needs GLIBC_\$need, Depends says libc6 (>= \$have)\"; exit 1; }"
	check "$arch: Depends is exactly the libraries the binary links" bash -c "
		dpkg-deb -x '$deb' '$x/root' && deps=\$(dpkg-deb -f '$deb' Depends) &&
		for lib in \$(readelf -d '$x/root/usr/bin/earshot' | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case \$lib in libpocketsphinx*) want=libpocketsphinx3;; libportaudio*) want=libportaudio2;; libsphinxbase*) want=libsphinxbase3;; *) want=libc6;; esac
			echo \"\$deps\" | grep -q \"\$want\" || { echo \"\$lib linked but \$want not in Depends: \$deps\"; exit 1; }
		done &&
		for want in libpocketsphinx3 libportaudio2; do
			echo \"\$deps\" | grep -q \$want || continue
			readelf -d '$x/root/usr/bin/earshot' | grep -q \"NEEDED.*\${want%[0-9]}\" || { echo \"Depends has \$want, binary does not link it\"; exit 1; }
		done"
}

host_arch=$(dpkg --print-architecture)
$MAKE -s deb >"$work/deb.log" 2>&1 || { cat "$work/deb.log"; fail "make deb"; exit 1; }
deb=$(sed -n 's/^deb: //p' "$work/deb.log" | tail -1)
if [ -f "$deb" ]; then pass "make deb -> $deb"; else fail "make deb produced no package (log: $(cat "$work/deb.log"))"; fi
deb_check "$deb" "$host_arch"
check "$host_arch: package tree matches make install (minus mqtt.pass, .dist; plus the changelog)" bash -c "
	diff <(cd '$work/x-$host_arch/root' && find . -type f ! -path ./usr/share/doc/earshot/changelog.gz | sort) \
	     <(cd '$root' && find . -type f ! -name mqtt.pass ! -name '*.dist' | sort)"
check "$host_arch: version sorts by commit time, and is the changelog's" bash -c "
	v=\$(dpkg-deb -f '$deb' Version) &&
	zcat '$work/x-$host_arch/root/usr/share/doc/earshot/changelog.gz' | head -1 | grep -qF \"earshot (\$v) \" &&
	dpkg --compare-versions \"\$(sh systemd/deb/version.sh e8345f8 20261203120000)\" lt \"\$(sh systemd/deb/version.sh 7412d3d 20261204090000)\" &&
	dpkg --compare-versions \"\$(sh systemd/deb/version.sh 7412d3d 20261204090000)\" lt \"\$(sh systemd/deb/version.sh v0.1.0 20261204090000)\""

if [ "${EARSHOT_LONG:-}" = 1 ]; then
	# Boot the package under a real systemd, if this machine can.
	if [ "$(id -u)" = 0 ] && command -v systemd-nspawn >/dev/null; then
		if sh systemd/test-nspawn.sh "$deb" >"$work/nspawn.log" 2>&1; then
			sed -n 's/^ok    /ok    nspawn: /p; s/^skip  /skip  nspawn: /p' "$work/nspawn.log"
		else
			fail "test-nspawn.sh"
			sed 's/^/      /' "$work/nspawn.log"
		fi
	else
		echo "skip  nspawn boot test (needs root and systemd-nspawn from systemd-container)"
	fi
	# The Raspberry Pi's package (docs/arm64.md): cross-built with cgo,
	# then run under qemu next to this machine's build.
	$MAKE -s deb ARCH=arm64 >"$work/deb-arm64.log" 2>&1 || { cat "$work/deb-arm64.log"; fail "make deb ARCH=arm64"; }
	deb=$(sed -n 's/^deb: //p' "$work/deb-arm64.log" | tail -1)
	deb_check "$deb" arm64
	arm=$work/x-arm64/root
	check "arm64: binary is aarch64 and links PocketSphinx and PortAudio (cgo)" bash -c "
		readelf -h '$arm/usr/bin/earshot' | grep -q AArch64 &&
		readelf -d '$arm/usr/bin/earshot' | grep -q 'NEEDED.*libpocketsphinx' &&
		readelf -d '$arm/usr/bin/earshot' | grep -q 'NEEDED.*libportaudio'"
	$MAKE -s deps-qemu >"$work/qemu.log" 2>&1 || { cat "$work/qemu.log"; fail "make deps-qemu"; }
	check "arm64 under qemu: earshot version names PocketSphinx and arm64" bash -c "
		qemu-aarch64-static '$arm/usr/bin/earshot' version | tee /dev/stderr | grep -q '^engine  pocketsphinx (cgo' &&
		qemu-aarch64-static '$arm/usr/bin/earshot' version | grep -q 'GOARCH=arm64'"
	# The package's own configs, intents and models, in the unpacked tree.
	sed -e "s|^  intents: /etc/earshot/|  intents: $arm/etc/earshot/|" -e "s|^  dir: .*|  dir: $work/arm64-state|" \
		-e "/^wake:/a\\  models: $arm/usr/share/earshot/models" \
		"$arm/etc/earshot/earshot.yaml" >"$work/arm64.yaml"
	check "arm64 under qemu: check-config on the package's config, intents and models" \
		qemu-aarch64-static "$arm/usr/bin/earshot" check-config "$work/arm64.yaml"
	# Every file of a small generated corpus: the same result on both.
	check "gen.sh --small corpus in .cache/corpus-small" bash audio/corpus/gen.sh .cache/corpus-small --small
	printf 'wake: {models: %s}\nspeech: {intents: %s}\n' "$arm/usr/share/earshot/models" "$PWD/audio/corpus/intents.yaml" >"$work/eval.yaml"
	if bash audio/eval/archdiff.sh "$work/eval.yaml" .cache/corpus-small bin/earshot "$arm/usr/bin/earshot" "$work/archdiff" >"$work/archdiff.log" 2>&1; then
		sed -n 's/^archdiff: /ok    eval amd64 vs arm64: /p' "$work/archdiff.log"
	else
		fail "eval amd64 vs arm64 (audio/eval/archdiff.sh)"
		sed 's/^/      /' "$work/archdiff.log"
	fi
	# Installed into an arm64 Debian root, the package's Depends resolved by apt.
	if [ "$(id -u)" = 0 ]; then
		if sh systemd/test-arm64-root.sh "$deb" >"$work/arm64-root.log" 2>&1; then
			grep '^ok ' "$work/arm64-root.log"
		else
			fail "test-arm64-root.sh"
			sed 's/^/      /' "$work/arm64-root.log"
		fi
	else
		echo "skip  arm64 root (debootstrap and chroot need root)"
	fi
fi

if [ "$fails" -gt 0 ]; then
	echo "test-install: $fails check(s) failed"
	exit 1
fi
echo "test-install: all checks passed"
