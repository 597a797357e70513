#!/bin/sh
# Boots a throwaway copy of this machine under a real systemd
# (systemd-nspawn, Debian package systemd-container), installs the .deb with
# dpkg, and checks the units for real: the daemon reaches READY under the
# full sandbox, survives two watchdog periods, serves the control socket to
# the earshot group, the purge timer is enabled, the purge service skips
# while the daemon runs and succeeds once it is stopped.
#
#   sudo sh systemd/test-nspawn.sh bin/earshot_<version>_<arch>.deb
#
# Root is needed for nspawn. Nothing on the host changes: the container's
# root is an overlay of / on a tmpfs, in a private mount namespace, with a
# private network. No sound card or GPIO chip is needed (the daemon reads a
# WAV file and runs without GPIO).
set -eu

deb=$(readlink -f "$1")
[ -f "$deb" ] || { echo "test-nspawn: $1: no such package" >&2; exit 1; }
command -v systemd-nspawn >/dev/null || { echo "test-nspawn: needs systemd-nspawn (apt install systemd-container)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "test-nspawn: needs root" >&2; exit 1; }

if [ "${TEST_NSPAWN_INNER:-}" != 1 ]; then
	# Re-run in a private mount namespace so no mount is seen by the host.
	TEST_NSPAWN_INNER=1 exec unshare --mount --propagation private sh "$0" "$deb"
fi

t=$(mktemp -d /tmp/earshot-nspawn.XXXXXX)
mount -t tmpfs -o size=2g tmpfs "$t"
mkdir "$t/up" "$t/work" "$t/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$t/up,workdir=$t/work" "$t/root"
r=$t/root

cp "$deb" "$r/root/earshot.deb"
chroot "$r" sh -c 'mount -t devtmpfs none /dev 2>/dev/null; dpkg -i /root/earshot.deb' >"$t/dpkg.log" 2>&1 ||
	{ cat "$t/dpkg.log"; echo "FAIL  dpkg -i"; exit 1; }
umount "$r/dev" 2>/dev/null || true

# No sound card, no GPIO in a container: a WAV input (longer than the test:
# a file input that ends stops feeding the watchdog), no pins.
sox -n -r 16000 -c 1 -b 16 "$r/var/lib/earshot-input.wav" synth 100 sine 440 vol 0.1
chmod 0644 "$r/var/lib/earshot-input.wav"
sed -i -e 's|^  input: .*|  input: file:/var/lib/earshot-input.wav|' \
	-e 's|^  mute_button: .*|  mute_button: ""|' -e 's|^  mute_led: .*|  mute_led: ""|' \
	"$r/etc/earshot/earshot.yaml"
# Only what the test needs: the host's other daemons stay off.
for s in mosquitto.service ssh.service cron.service; do ln -sf /dev/null "$r/etc/systemd/system/$s"; done

cat >"$r/usr/local/bin/earshot-probe" <<'PROBE'
#!/bin/sh
exec >/earshot-probe.log 2>&1
ok() { echo "ok    $*"; }
bad() { echo "FAIL  $*"; }
systemctl is-enabled -q earshot.service && ok "earshot.service enabled by postinst" || bad "earshot.service not enabled"
systemctl is-active -q earshot-purge.timer && ok "earshot-purge.timer active" || bad "earshot-purge.timer not active"
# No sound card or GPIO chip here, so check the mechanism the unit uses for
# them (PrivateDevices=yes, the node bound in, a DeviceAllow= class) on
# /dev/fuse, another char device: allowed it opens, without DeviceAllow not.
if [ -c /dev/fuse ]; then
	dev() { systemd-run --wait --quiet --collect -p PrivateDevices=yes -p BindPaths=/dev/fuse "$@" /bin/sh -c 'exec 3<>/dev/fuse'; }
	if dev -p "DeviceAllow=char-misc rw" 2>/dev/null; then ok "PrivateDevices + BindPaths + DeviceAllow=char-misc: device opens"; else bad "bound, allowed device does not open"; fi
	if dev 2>/dev/null; then echo "skip  device ACL not enforced in this container (cgroup), cannot check the deny side"; else ok "PrivateDevices + BindPaths without DeviceAllow: device refused"; fi
else
	echo "skip  no /dev/fuse in the container: device mechanism not checked"
fi
sleep 65 # two watchdog periods (WatchdogSec=30s)
[ "$(systemctl show -P ActiveState earshot.service)" = active ] && [ "$(systemctl show -P NRestarts earshot.service)" = 0 ] &&
	ok "earshot.service active after 65 s, no restarts (status: $(systemctl show -P StatusText earshot.service))" ||
	bad "earshot.service: $(systemctl show -p ActiveState -p SubState -p Result -p NRestarts earshot.service | tr '\n' ' ')"
[ "$(stat -c '%a %U:%G' /run/earshot)" = "750 earshot:earshot" ] && ok "/run/earshot 0750 earshot:earshot" || bad "/run/earshot: $(stat -c '%a %U:%G' /run/earshot)"
[ "$(stat -c '%a %G' /run/earshot/control.sock)" = "660 earshot" ] && ok "control.sock 0660 group earshot" || bad "control.sock: $(stat -c '%a %G' /run/earshot/control.sock)"
[ "$(stat -c '%a %U' /var/lib/earshot)" = "700 earshot" ] && ok "/var/lib/earshot 0700 earshot" || bad "/var/lib/earshot: $(stat -c '%a %U' /var/lib/earshot)"
[ "$(stat -c '%a %U:%G' /etc/earshot/mqtt.pass)" = "640 root:earshot" ] && ok "mqtt.pass 0640 root:earshot" || bad "mqtt.pass: $(stat -c '%a %U:%G' /etc/earshot/mqtt.pass)"
grep -Eq '^Max core file size +0 +0 ' "/proc/$(systemctl show -P MainPID earshot.service)/limits" && ok "daemon runs with core dumps off" || bad "daemon may dump core: $(grep core "/proc/$(systemctl show -P MainPID earshot.service)/limits")"
runuser -u earshot -- earshot status --config /etc/earshot/earshot.yaml >/dev/null && ok "earshot status over the control socket" || bad "earshot status"
systemctl start earshot-purge.service
[ "$(systemctl show -P Result earshot-purge.service)" = exec-condition ] && ok "purge skipped while the daemon runs" || bad "purge while running: $(systemctl show -P Result earshot-purge.service)"
systemctl stop earshot.service
systemctl show -P ExecStopPost earshot.service | grep -Eq "code=exited ; status=0( |/)" && ok "ExecStopPost purge ran and succeeded" || bad "ExecStopPost: $(systemctl show -P ExecStopPost earshot.service)"
systemctl start earshot-purge.service
[ "$(systemctl show -P Result earshot-purge.service)" = success ] && ok "purge runs while the daemon is stopped" || bad "purge while stopped: $(systemctl show -P Result earshot-purge.service)"
echo "--- systemd-analyze security (live)"; systemd-analyze security earshot.service | tail -1
echo "--- journal"; journalctl -u earshot.service -u earshot-purge.service -o short-monotonic --no-pager | tail -30
systemctl poweroff
PROBE
chmod 0755 "$r/usr/local/bin/earshot-probe"
cat >"$r/etc/systemd/system/earshot-probe.service" <<'UNIT'
[Unit]
After=multi-user.target earshot.service
[Service]
Type=oneshot
ExecStart=/usr/local/bin/earshot-probe
UNIT
ln -sf /etc/systemd/system/earshot-probe.service "$r/etc/systemd/system/multi-user.target.wants/earshot-probe.service"

fuse=
[ -c /dev/fuse ] && fuse=--bind=/dev/fuse
timeout 300 systemd-nspawn --quiet -D "$r" --private-network --register=no --keep-unit ${fuse:+"$fuse"} -b >"$t/boot.log" 2>&1 || true
cat "$t/up/earshot-probe.log" 2>/dev/null || { echo "FAIL  the container did not run the probe"; tail -30 "$t/boot.log"; }
status=0
grep -q '^FAIL' "$t/up/earshot-probe.log" 2>/dev/null && status=1
[ -f "$t/up/earshot-probe.log" ] || status=1
umount "$r" "$t"
rmdir "$t"
exit $status
