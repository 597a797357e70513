#!/usr/bin/env bash
# pi-figures.sh [OUTDIR]
#
# What the recognition costs a Raspberry Pi, from instruction counts (time
# under qemu means nothing): the same benchmarks built for amd64 and
# arm64, each run at two iteration counts, the difference divided by the
# audio the extra iterations fed. Counted by audio/eval/insns.sh (valgrind
# on amd64, a qemu plugin on arm64), both with GOMAXPROCS=1. Also the
# whole of `earshot eval` on arm64 on part of the small generated corpus,
# less its start-up (an eval of its first file alone). Prints a table, then a Pi 4 / Pi 5
# estimate under the clock and IPC assumptions it names. Run by
# `make pi-figures`, which builds what it needs; OUTDIR keeps the logs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
top=$PWD
out=${1:-$top/.cache/figures}
mkdir -p "$out"
out=$(cd "$out" && pwd)
insns=$top/audio/eval/insns.sh
export GOMAXPROCS=1
ARM64_ENV=(GOOS=linux GOARCH=arm64 CGO_ENABLED=1 CC=aarch64-linux-gnu-gcc
	PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)

# Both counters must count a loop of known length exactly: 2 instructions
# an iteration, so 2,000,000 more for 1,000,000 more iterations (the
# arguments have the same number of digits, so parsing them costs the same).
cat >"$out/loop.c" <<'C'
#include <stdlib.h>
int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 0;
#if defined(__aarch64__)
	__asm__ volatile("1: subs %0, %0, #1\n b.ne 1b" : "+r"(n));
#else
	__asm__ volatile("1: dec %0\n jnz 1b" : "+r"(n));
#endif
	return 0;
}
C
cc -O1 -o "$out/loop.amd64" "$out/loop.c"
aarch64-linux-gnu-gcc -O1 -static -o "$out/loop.arm64" "$out/loop.c"
for arch in amd64 arm64; do
	a=$("$insns" "$out/loop.$arch" 1000000 2>/dev/null)
	b=$("$insns" "$out/loop.$arch" 2000000 2>/dev/null)
	if [[ $((b - a)) != 2000000 ]]; then
		echo "pi-figures: the $arch counter is off: $((b - a)) instructions for 1,000,000 iterations of 2" >&2
		exit 1
	fi
done
echo "counters checked: 2,000,000 instructions counted exactly for 1,000,000 two-instruction iterations, on amd64 and arm64"

# The benchmarks: package, name, what it is.
benches=(
	"audio/embedding BenchmarkStream speech embedding (mel + conv net), per second streamed"
	"audio/listen BenchmarkFeedSpeech listener on talk without the wake phrase (VAD, embedding, head)"
	"audio/sphinx BenchmarkGrammarDecode PocketSphinx grammar decode (verification of a candidate)"
)
for arch in amd64 arm64; do
	for pkg in audio/embedding audio/listen audio/sphinx; do
		name=$(basename "$pkg")
		if [[ $arch == arm64 ]]; then
			env "${ARM64_ENV[@]}" go test -c -o "$out/$name.$arch.test" "./$pkg"
		else
			go test -c -o "$out/$name.$arch.test" "./$pkg"
		fi
	done
done

# count BIN N BENCH: instructions of the run, and the audio s/op it reports.
count() {
	local bin=$1 n=$2 bench=$3 log=$out/$(basename "$1").$3.$2.log insn
	insn=$("$insns" "$bin" -test.run '^$' -test.bench "^$bench\$" -test.benchtime "${n}x" 2>"$log") ||
		{ cat "$log" >&2; return 1; }
	echo "$insn $(awk '{ for (i = 2; i <= NF; i++) if ($i == "audio-s/op") print $(i - 1) }' "$log")"
}

printf '\n%-24s %14s %14s %8s\n' "M instructions/audio s" amd64 arm64 arm/amd
results=()
for line in "${benches[@]}"; do
	read -r pkg bench what <<<"$line"
	name=$(basename "$pkg")
	row=()
	for arch in amd64 arm64; do
		# Tests find the models from the package directory.
		c2=$(cd "$pkg" && count "$out/$name.$arch.test" 2 "$bench")
		c6=$(cd "$pkg" && count "$out/$name.$arch.test" 6 "$bench")
		read -r i2 secs <<<"$c2"
		read -r i6 _ <<<"$c6"
		[[ -n $i2 && -n $i6 && -n $secs ]] || { echo "pi-figures: $bench on $arch: no count or no audio-s/op" >&2; exit 1; }
		row+=("$(awk -v a="$i2" -v b="$i6" -v s="$secs" 'BEGIN { printf "%.1f", (b - a) / 4 / s / 1e6 }')")
	done
	results+=("$bench ${row[1]}")
	printf '%-24s %14s %14s %8s   %s\n' "$bench" "${row[0]}" "${row[1]}" \
		"$(awk -v a="${row[0]}" -v b="${row[1]}" 'BEGIN { printf "%.2f", b / a }')" "$what"
done

# The whole eval on arm64: the first 12 files of the small corpus less
# an eval of the first alone. (Not on amd64: Go's eval under valgrind ran
# over 13 minutes without finishing on the build machine.)
bash audio/corpus/gen.sh .cache/corpus-small --small >/dev/null
for n in 1 12; do
	rm -rf "$out/corpus-$n" && mkdir -p "$out/corpus-$n"
	ln -s "$top/.cache/corpus-small/wake" "$top/.cache/corpus-small/other" "$out/corpus-$n/"
	head -$((n + 1)) .cache/corpus-small/labels.tsv >"$out/corpus-$n/labels.tsv"
done
printf 'wake: {models: %s}\nspeech: {intents: %s}\n' "$top/.cache/models" "$top/audio/corpus/intents.yaml" >"$out/eval.yaml"
for n in 1 12; do
	i[n]=$("$insns" bin/arm64/earshot eval --config "$out/eval.yaml" --corpus "$out/corpus-$n" 2>"$out/eval-$n.log")
	s[n]=$(sed -n 's/^decoding: .* for \([0-9.]*\) audio s.*/\1/p' "$out/eval-$n.log")
	[[ -n ${s[n]} ]] || { echo "pi-figures: eval printed no decoding line ($out/eval-$n.log)" >&2; exit 1; }
done
m=$(awk -v a="${i[1]}" -v b="${i[12]}" -v s1="${s[1]}" -v s="${s[12]}" 'BEGIN { printf "%.1f", (b - a) / (s - s1) / 1e6 }')
results+=("eval $m")
printf '%-24s %14s %14s %8s   %s\n' "earshot eval" - "$m" - \
	"all of it on 11 files of the small corpus ($(awk -v a="${s[1]}" -v b="${s[12]}" 'BEGIN { print b - a }') audio s: wake phrases and commands), start-up taken off"

# A core's share: instructions / (clock * IPC). The IPC ranges are
# assumptions, not measurements: a Cortex-A72 (Pi 4, 1.5 GHz; 1.8 GHz on
# later boards) retires about 0.8-1.5 instructions a cycle on code like
# this, a Cortex-A76 (Pi 5, 2.4 GHz) about 1.2-2.5.
printf '\nshare of one core (arm64 count / (clock x IPC)), an estimate:\n'
printf '%-24s %18s %18s\n' "" "Pi 4 A72 1.5 GHz" "Pi 5 A76 2.4 GHz"
for r in "${results[@]}"; do
	read -r what m <<<"$r"
	awk -v w="$what" -v m="$m" 'BEGIN {
		printf "%-24s %7.1f%% - %5.1f%% %7.1f%% - %5.1f%%\n", w,
			100 * m / (1500 * 1.5), 100 * m / (1500 * 0.8), 100 * m / (2400 * 2.5), 100 * m / (2400 * 1.2)
	}'
done
