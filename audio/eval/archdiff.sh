#!/usr/bin/env bash
# archdiff.sh CONFIG CORPUS EARSHOT_A EARSHOT_B [OUTDIR]
#
# Runs `earshot eval --per-file` with two builds of earshot (amd64's and
# the arm64 one, which runs under qemu-aarch64-static) on the same corpus
# and fails if any file's result differs: woke or not, how often, the
# intent and slots, right or wrong, and the totals (wake stage seconds,
# candidates, verifications). The embedding is the same to the bit on
# both (audio/embedding's digest test) and PocketSphinx is the same C
# code, so nothing may differ but the CPU time and RSS, which are dropped.
# The outputs are kept in OUTDIR (default: a temporary directory).
set -euo pipefail

[[ $# -ge 4 && $# -le 5 ]] || { echo "usage: $0 CONFIG CORPUS EARSHOT_A EARSHOT_B [OUTDIR]" >&2; exit 2; }
config=$1 corpus=$2
out=${5:-$(mktemp -d)}
mkdir -p "$out"
[[ -f $config ]] || { echo "archdiff: $config: no such config" >&2; exit 2; }
[[ -s $corpus/labels.tsv ]] || { echo "archdiff: $corpus/labels.tsv: no corpus there (audio/corpus/gen.sh makes one)" >&2; exit 2; }

# runner prints the command that runs BINARY here: itself, or under qemu
# when it is an arm64 binary on another machine.
runner() {
	local bin=$1 machine
	[[ -x $bin ]] || { echo "archdiff: $bin: no such executable" >&2; return 2; }
	machine=$(LC_ALL=C readelf -h "$bin" | sed -n 's/^ *Machine: *//p')
	if [[ $machine == AArch64 && $(uname -m) != aarch64 ]]; then
		command -v qemu-aarch64-static >/dev/null || { echo "archdiff: $bin is arm64: needs qemu-aarch64-static (make deps-qemu)" >&2; return 2; }
		echo "qemu-aarch64-static $bin"
	else
		echo "$bin"
	fi
}

# normalise keeps what must be equal: the per-file table and the counts,
# without the CPU seconds, real-time factor and RSS.
normalise() {
	sed -E -e 's/^decoding: [0-9.]+ CPU s for /decoding: for /' -e 's/ rtf=[0-9.]+ rss_mb=[0-9.]+$//'
}

files=$(($(wc -l <"$corpus/labels.tsv") - 1))
for side in a b; do
	if [[ $side == a ]]; then bin=$3; else bin=$4; fi
	read -ra cmd <<<"$(runner "$bin")"
	start=$SECONDS
	"${cmd[@]}" eval --config "$config" --corpus "$corpus" --per-file >"$out/$side.txt" 2>"$out/$side.err" ||
		{ echo "archdiff: ${cmd[*]} eval failed:" >&2; cat "$out/$side.err" >&2; exit 1; }
	normalise <"$out/$side.txt" >"$out/$side.norm"
	# One line per file, each ending ok or WRONG: a run that lists fewer
	# files compares nothing.
	rows=$(grep -vE '^file +kind ' "$out/$side.norm" | grep -cE ' (ok|WRONG)$' || true)
	[[ $rows == "$files" ]] || { echo "archdiff: ${cmd[*]}: $rows per-file lines for $files files in labels.tsv" >&2; exit 1; }
	echo "archdiff: ${cmd[*]}: $files files in $((SECONDS - start)) s: $(tail -1 "$out/$side.txt")"
done

# The comparison must be able to fail: a copy with one file's result
# changed has to differ.
awk '!done && !/^file +kind / && / (ok|WRONG)$/ { sub(/ ok$/, " WRONG") || sub(/ WRONG$/, " ok"); done = 1 } 1' \
	"$out/a.norm" >"$out/a.planted"
if diff -q "$out/a.planted" "$out/a.norm" >/dev/null; then
	echo "archdiff: the comparison cannot see a changed file result" >&2
	exit 1
fi

if ! diff -u --label "$3" --label "$4" "$out/a.norm" "$out/b.norm"; then
	echo "archdiff: per-file results differ (outputs in $out)" >&2
	exit 1
fi
echo "archdiff: all $files files give the same result on both"
