#!/bin/sh
# Lays out an earshot installation under $DESTDIR. Called by `make install`
# (a real system or a staging DESTDIR) and `make deb` (the package tree).
#
#   install-tree.sh install|deb  BINARY
#
# Paths come from the environment (install.mk sets them): DESTDIR, BINDIR,
# UNITDIR, SYSUSERSDIR, UDEVRULESDIR, DOCDIR, MANDIR, SYSCONFDIR.
# "install" never overwrites an existing config (the new one lands beside it
# as *.dist) and creates the empty mqtt.pass placeholder if absent; "deb"
# leaves both to dpkg (conffiles) and the postinst.
set -eu

mode=$1
bin=$2
here=$(dirname "$0")
top=$here/..
: "${DESTDIR:=}" "${BINDIR:?}" "${UNITDIR:?}" "${SYSUSERSDIR:?}" "${UDEVRULESDIR:?}" "${DOCDIR:?}" "${MANDIR:?}" "${SYSCONFDIR:?}"
conf=$SYSCONFDIR/earshot

[ -x "$bin" ] || { echo "install-tree: $bin: no such executable (run 'make build' first)" >&2; exit 1; }

install -d -m 0755 "$DESTDIR$BINDIR" "$DESTDIR$UNITDIR" "$DESTDIR$SYSUSERSDIR" \
	"$DESTDIR$UDEVRULESDIR" "$DESTDIR$DOCDIR" "$DESTDIR$MANDIR/man1" "$DESTDIR$conf"
install -m 0755 "$bin" "$DESTDIR$BINDIR/earshot"

# The units name /usr/bin/earshot and /etc/earshot; follow PREFIX/SYSCONFDIR.
for unit in earshot.service earshot-purge.service earshot-purge.timer; do
	sed -e "s|/usr/bin/earshot|$BINDIR/earshot|g" \
		-e "s|/etc/earshot|$conf|g" \
		-e "s|/usr/share/doc/earshot|$DOCDIR|g" \
		"$here/$unit" >"$DESTDIR$UNITDIR/$unit.tmp"
	chmod 0644 "$DESTDIR$UNITDIR/$unit.tmp"
	mv "$DESTDIR$UNITDIR/$unit.tmp" "$DESTDIR$UNITDIR/$unit"
done
install -m 0644 "$here/earshot.sysusers" "$DESTDIR$SYSUSERSDIR/earshot.conf"
install -m 0644 "$here/60-earshot-gpio.rules" "$DESTDIR$UDEVRULESDIR/60-earshot-gpio.rules"
install -m 0644 "$top/docs/install.md" "$DESTDIR$DOCDIR/install.md"
[ -f "$top/README.md" ] && install -m 0644 "$top/README.md" "$DESTDIR$DOCDIR/README.md"
sh "$here/deb/copyright.sh" "$bin" >"$DESTDIR$DOCDIR/copyright"
chmod 0644 "$DESTDIR$DOCDIR/copyright"
gzip -9n <"$top/docs/earshot.1" >"$DESTDIR$MANDIR/man1/earshot.1.gz"
chmod 0644 "$DESTDIR$MANDIR/man1/earshot.1.gz"

# The speech embedding the wake stage listens through (wake.models), as
# `make models` fetched and checked it.
models=${MODELDIR:-/usr/share/earshot/models}
for f in melspectrogram.onnx embedding_model.onnx; do
	[ -f "$top/.cache/models/$f" ] || { echo "install-tree: .cache/models/$f missing (run 'make models' first)" >&2; exit 1; }
	install -D -m 0644 "$top/.cache/models/$f" "$DESTDIR$models/$f"
done

for f in earshot.yaml intents.yaml; do
	dst=$DESTDIR$conf/$f
	if [ "$mode" = install ] && [ -e "$dst" ]; then
		install -m 0644 "$top/configs/$f" "$dst.dist"
		echo "install-tree: kept your $conf/$f; the shipped one is $conf/$f.dist"
	else
		install -m 0644 "$top/configs/$f" "$dst"
	fi
done

[ "$mode" = deb ] && exit 0

pass=$DESTDIR$conf/mqtt.pass
if [ -z "$DESTDIR" ]; then
	# A real install: create the user now so the placeholder can be its.
	systemd-sysusers "$SYSUSERSDIR/earshot.conf"
fi
if [ ! -e "$pass" ]; then
	(umask 0137 && : >"$pass")
	if [ "$(id -u)" = 0 ] && getent group earshot >/dev/null 2>&1; then
		chgrp earshot "$pass"
	else
		echo "install-tree: $conf/mqtt.pass must be root:earshot 0640 on the target (the .deb's postinst does this)"
	fi
fi
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	echo "install-tree: now run: systemctl enable --now earshot.service earshot-purge.timer"
fi
