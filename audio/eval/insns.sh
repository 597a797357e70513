#!/usr/bin/env bash
# insns.sh COMMAND [ARG...]
#
# Prints the number of user-space instructions COMMAND executes (all its
# threads, not its child processes). Time under emulation says nothing
# about a Raspberry Pi; instruction counts do.
#   an arm64 binary (on another machine): run under Debian's qemu-aarch64
#     (qemu-user, which loads TCG plugins) with audio/eval/qemu/insns.c,
#     built here into .cache/qemu/libinsns.so, adding up the instructions
#     of every translation block each time it runs.
#   anything else: valgrind --tool=cachegrind, its "I refs" total.
# COMMAND's own output goes to stderr. Go programs run without
# asynchronous preemption on both sides: its signals come by the clock,
# which valgrind and qemu stretch differently.
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
bin=$(command -v "$1") || { echo "insns: $1: not found" >&2; exit 2; }
machine=$(LC_ALL=C readelf -h "$bin" 2>/dev/null | sed -n 's/^ *Machine: *//p')
export GODEBUG=${GODEBUG:+$GODEBUG,}asyncpreemptoff=1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [[ $machine == AArch64 && $(uname -m) != aarch64 ]]; then
	command -v qemu-aarch64 >/dev/null || { echo "insns: needs qemu-aarch64 (Debian qemu-user; make deps-figures)" >&2; exit 2; }
	plugin=$here/../../.cache/qemu/libinsns.so
	if [[ ! -f $plugin || $here/qemu/insns.c -nt $plugin ]]; then
		mkdir -p "$(dirname "$plugin")"
		cc -shared -fPIC -O2 -Wall -Werror -o "$plugin" "$here/qemu/insns.c"
	fi
	status=0
	qemu-aarch64 -plugin "$plugin" "$bin" "${@:2}" 2>"$log" >&2 || status=$?
	grep -v '^insns: [0-9]*$' "$log" >&2 || true
	[[ $status == 0 ]] || { echo "insns: $1 exited with status $status" >&2; exit 1; }
	sed -n 's/^insns: \([0-9]*\)$/\1/p' "$log" | tail -1 | grep . || { echo "insns: the qemu plugin reported no count" >&2; exit 1; }
else
	command -v valgrind >/dev/null || { echo "insns: needs valgrind (make deps-figures)" >&2; exit 2; }
	# Valgrind 3.19 cannot execute RDTSCP, which Go's runtime uses when the
	# CPU has it; the features the kernels use (AVX2, FMA) stay on.
	GODEBUG=$GODEBUG,cpu.rdtscp=off valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null --log-file="$log" "$bin" "${@:2}" >&2 ||
		{ echo "insns: $1 exited with status $?" >&2; cat "$log" >&2; exit 1; }
	sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' "$log" | tr -d , | grep . || { cat "$log" >&2; exit 1; }
fi
