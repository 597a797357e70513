#!/usr/bin/env bash
# gen.sh OUTDIR [--small | --held-out] [--plan]
# gen.sh --render OUTDIR JOB
#
# Synthesises earshot's labelled test-speech corpus into OUTDIR:
#   wake/wNNNN.wav   "hey jarvis" + a command of intents.yaml (from commands.tsv)
#   other/oNNNN.wav  ordinary speech, near misses, bare commands, noise, silence
#   labels.tsv       file <TAB> kind <TAB> intent <TAB> slots   (kind wake|other),
#                    then set, voice, noise, snr: what `earshot eval --by` groups by
# All WAVs are 16 kHz mono signed 16-bit. Voices: flite (slt rms awb kal) and
# espeak-ng (its klatt voice at six pitch/speed settings: the formant voices
# are all but unintelligible to PocketSphinx's en-us model); sox varies tempo, pitch, reverb, noise (SNR 15-25 dB),
# leading/trailing silence and level. A third of the wake files pause
# after the wake phrase (0.3-3 s), as people do, before the command.
#
# The plan (every file and its parameters) comes from a seeded generator, so
# runs are comparable; rendering is parallel (one job per file, nproc at a
# time). A second run with the same plan and all files present does nothing;
# an interrupted run resumes. --small plans a quick subset for `make test`
# (20 wake utterances, >= 3 minutes of other speech); --plan prints the plan.
# --held-out plans the same corpus in festival's kal_diphone voice alone,
# the voice no wake-word head is trained on (audio/wakeword/train).
# --render writes the one file of JOB (a line of the plan) into OUTDIR: the
# same file every time, which is how tests use single corpus files.
#
# Needs flite, espeak-ng and sox (Debian: flite espeak-ng sox); --held-out
# needs festival and festvox-kallpc16k.
set -euo pipefail

readonly WAKE="hey jarvis"
readonly SEED=${EARSHOT_CORPUS_SEED:-20261127}  # another seed gives a held-out corpus
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"
readonly here self

usage() {
	echo "usage: $0 OUTDIR [--small | --held-out] [--plan]" >&2
	exit 2
}

die() {
	echo "gen.sh: $*" >&2
	exit 1
}

# plan prints one tab-separated job per output file:
# id kind intent slots voice text1 text2 pause tempo pitch reverb noise snr lead trail peak set
# where set says what the file is: wake, speech (ordinary sentences), near
# (a near miss of the wake phrase, perhaps with a command), command (a
# command without the wake phrase) or noise (noise or silence only).
plan() {
	local mode=$1 seed=$SEED
	awk -F '\t' -v mode="$mode" -v seed="$seed" -v wake="$WAKE" -f <(planner) "$here/commands.tsv"
}

planner() {
	cat <<'AWK'
# Park-Miller generator: exact in double precision, so every awk
# (mawk, gawk, busybox) produces the same plan.
function rnd() { state = (state * 16807) % 2147483647; return state / 2147483647 }
function uniform(lo, hi) { return lo + (hi - lo) * rnd() }
function pick(arr, n) { return arr[int(rnd() * n) + 1] }
function fmt(x) { return sprintf("%.2f", x) }
function shuffle(arr, n,    i, j, t) {
	for (i = n; i > 1; i--) { j = int(rnd() * i) + 1; t = arr[i]; arr[i] = arr[j]; arr[j] = t }
}
# effects prints the shared variation columns: tempo pitch reverb noise snr lead trail peak.
function effects(    noise, snr, reverb) {
	reverb = rnd() < 0.4 ? 0 : int(uniform(10, 60))
	if (rnd() < 0.8) { noise = pick(noises, nnoises); snr = int(uniform(15, 25.99)) } else { noise = "-"; snr = 0 }
	return fmt(uniform(0.9, 1.1)) "\t" int(uniform(-200, 200)) "\t" reverb "\t" noise "\t" snr "\t" \
		fmt(uniform(0.3, 1.0)) "\t" fmt(uniform(0.3, 1.0)) "\t" int(uniform(-12, -3))
}
function words(s,    tmp) { return split(s, tmp, " ") }
function sentence(    r, s) {
	r = rnd()
	if (r < 0.55) return pick(bank, nbank)
	if (r < 0.75) {
		s = pick(dets, ndets) " " pick(adjs, nadjs) " " pick(nouns, nnouns) " " pick(verbs, nverbs) " " \
			pick(dets, ndets) " " pick(nouns, nnouns) " " pick(whens, nwhens)
		return toupper(substr(s, 1, 1)) substr(s, 2) "."
	}
	if (r < 0.9) {
		s = pick(starts, nstarts) " " pick(dets, ndets) " " pick(adjs, nadjs) " " pick(nouns, nnouns) " " pick(places, nplaces)
		return s "?"
	}
	s = "I think we should " pick(acts, nacts) " " pick(laters, nlaters)
	return s "."
}
BEGIN {
	state = seed
	nwake = mode == "small" ? 20 : 240
	other_seconds = mode == "small" ? 200 : 2100   # >= 3 and >= 30 minutes, with margin
	near_share = 0.15
	nvoices = split("flite:slt flite:rms flite:awb flite:kal espeak:en-us+klatt@25@140 espeak:en-us+klatt@40@160 espeak:en-us+klatt@55@150 espeak:en-us+klatt@70@170 espeak:en-us+klatt@85@145 espeak:en-us+klatt@50@175", voices, " ")
	if (mode == "held-out") nvoices = split("festival:kal_diphone", voices, " ")
	nnoises = split("white pink brown", noises, " ")
	nnear = split("hey travis|jarvis|hey jars|hey service|hey harvest|a jar of olives|hey, chavez|okay jasper|hey marvin|nervous|hey jar|say jarvis slowly|hey garvey|jar bits|hey artist|the jarvis family moved away|hey there travis", near, "|")
	nbank = split("The weather has been lovely this week, and we might go walking on Saturday.|Could you pass me the salt and the pepper, please?|I left my keys on the table next to the front door.|The kitchen lights were flickering again last night.|My sister is coming over for dinner on Sunday.|We should really fix the fence before winter.|Did you remember to water the plants in the bedroom?|The bus was twenty minutes late this morning.|I can't believe how quickly the children are growing up.|Let's order pizza tonight, I'm too tired to cook.|The meeting has been moved to half past three.|There's a new bakery on the corner that sells amazing bread.|He turned the music down so the baby could sleep.|Put the timer on the oven, the cake needs forty minutes.|I was reading about volcanoes in Iceland yesterday.|Our neighbors just adopted a very loud puppy.|The living room needs a new coat of paint.|She said the train to the city was packed.|Remember to buy milk, eggs and some butter.|The football match went to extra time and then penalties.|I think the washing machine is making a strange noise.|Grandma's recipe uses far more garlic than you'd expect.|We watched an old film about pirates on Friday.|The garden looks beautiful after all that rain.|Honestly, I have no idea where the remote control went.|Turn left at the post office and the library is on your right.|The doctor said to rest for a few days.|They're building a new school near the river.|Can you help me carry these boxes upstairs?|My phone battery dies so fast these days.|The radio said there might be snow in the hills.|I switched banks last year and it was surprisingly easy.|Dinner will be ready in about ten minutes.|The cat keeps sleeping on my laptop keyboard.|We need to book the holiday before prices go up.|He plays jazz piano in a small band on weekends.|The printer is out of ink again.|I'd like a cup of tea with a little milk.|Please close the window, it's getting cold in here.|The lecture on ancient Rome was fascinating.|Set the table for six, my cousins are joining us.|Her new job starts on the first of the month.|I heard the lights on the bridge are being replaced.|The hospital car park is always full.|Let's play a board game after lunch.|Nobody told me the shop closes early on Mondays.|I'll call you back when I get home.|The soup needs a bit more salt, I think.|There were so many birds in the garden this morning.|I forgot to switch off the heating before we left.", bank, "|")
	ndets = split("the|my|our|that|every|their", dets, "|")
	nadjs = split("old|bright|quiet|small|heavy|yellow|friendly|broken|new|lazy|careful|noisy", adjs, "|")
	nnouns = split("neighbor|teacher|dog|bicycle|window|farmer|kettle|painter|garden|engine|river|student|blanket|market|letter", nouns, "|")
	nverbs = split("painted|found|carried|followed|cleaned|watched|repaired|visited|borrowed|described", verbs, "|")
	nwhens = split("yesterday|last winter|on Tuesday|after breakfast|this afternoon|every weekend|before the storm|at midnight", whens, "|")
	nstarts = split("Have you seen|Where did you put|Did anyone move|Who borrowed|Why is", starts, "|")
	nplaces = split("in the hallway|near the station|behind the shed|at the office|by the sea|in the attic", places, "|")
	nlaters = split("tomorrow|next week|this weekend|after lunch|before winter|some time soon", laters, "|")
	nacts = split("visit the museum|clean the garage|call your parents|plant some tomatoes|repaint the kitchen|go to the beach", acts, "|")
}
# commands.tsv: text intent slots, after a comment and a header line.
/^#/ || $1 == "text" { next }
{
	if ($2 == "ForgetLast" || $2 == "ForgetToday") { nbuilt++; btext[nbuilt] = $0 } else { nuser++; utext[nuser] = $0 }
}
END {
	if (nuser == 0 || nbuilt == 0) { print "gen.sh: commands.tsv has no commands" > "/dev/stderr"; exit 1 }
	for (i = 1; i <= nuser; i++) uorder[i] = i
	for (i = 1; i <= nbuilt; i++) border[i] = i
	shuffle(uorder, nuser); shuffle(border, nbuilt)
	ui = 0; bi = 0
	for (i = 1; i <= nwake; i++) {
		# About one command in seven is a built-in privacy command.
		if (i % 7 == 0) { split(btext[border[bi % nbuilt + 1]], c, "\t"); bi++ } else { split(utext[uorder[ui % nuser + 1]], c, "\t"); ui++ }
		voice = voices[(i - 1) % nvoices + 1]
		r = rnd()
		if (r < 1 / 3) { text1 = wake ", " c[1]; text2 = "-"; pause = "-" } \
		else if (r < 2 / 3) { text1 = wake " " c[1]; text2 = "-"; pause = "-" } \
		else { text1 = wake; text2 = c[1]; pause = fmt(uniform(0.3, 3.0)) }
		printf "wake/w%04d\twake\t%s\t%s\t%s\t%s\t%s\t%s\t%s\twake\n", i, c[2], c[3], voice, text1, text2, pause, effects()
	}
	total = 0
	for (i = 1; total < other_seconds; i++) {
		voice = voices[int(rnd() * nvoices) + 1]
		r = rnd()
		if (r < 0.05) {
			# Noise or near silence only: the detector must stay quiet.
			dur = int(uniform(3, 9))
			kind = rnd() < 0.3 ? "silence" : pick(noises, nnoises)
			printf "other/o%04d\tother\t-\t-\t%s\t%d\t-\t-\t1.00\t0\t0\t-\t0\t0.00\t0.00\t%d\tnoise\n", i, kind, dur, kind == "silence" ? -60 : int(uniform(-40, -20))
			total += dur
			continue
		}
		if (r < 0.05 + near_share) {
			set = "near"; text = pick(near, nnear)
			if (rnd() < 0.5) { split(utext[int(rnd() * nuser) + 1], c, "\t"); text = text " " c[1] }
		} else if (r < 0.17 + near_share) {
			set = "command"; split(utext[int(rnd() * nuser) + 1], c, "\t"); text = c[1]   # a command without the wake phrase
		} else {
			set = "speech"; n = 2 + int(rnd() * 2); text = sentence()
			for (j = 2; j <= n; j++) text = text " " sentence()
		}
		line = effects()
		split(line, e, "\t")
		# Pessimistic estimate (fast speech, fastest tempo) so the target is met.
		total += words(text) / 4.4 + e[6] + e[7]
		printf "other/o%04d\tother\t-\t-\t%s\t%s\t-\t-\t%s\t%s\n", i, voice, text, line, set
	}
}
AWK
}

# labeller turns the plan into labels.tsv rows: the four columns eval needs,
# then the file's set, its voice without espeak's pitch and speed, and its
# noise and SNR ("-" for none), for `earshot eval --by`.
labeller() {
	cat <<'AWK'
{
	voice = $5; sub(/@.*/, "", voice)
	noise = $12; snr = $13
	if ($17 == "noise") { noise = $5; voice = "-"; snr = "-" }
	if (noise == "-") snr = "-"
	printf "%s.wav\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $1, $2, $3, $4, $17, voice, noise, snr
}
AWK
}

# tts VOICE TEXT OUT: synthesise TEXT and convert it to 16 kHz mono s16.
tts() {
	local voice=$1 text=$2 out=$3
	case $voice in
	flite:*) flite -voice "${voice#flite:}" -t "$text" -o "$out.raw.wav" ;;
	espeak:*) # espeak:VOICE@PITCH@SPEED
		local v=${voice#espeak:} p s
		IFS=@ read -r v p s <<<"$v"
		espeak-ng -v "$v" ${p:+-p "$p"} ${s:+-s "$s"} -w "$out.raw.wav" "$text" ;;
	festival:*) text2wave -eval "(voice_${voice#festival:})" -o "$out.raw.wav" <<<"$text" >/dev/null ;;
	*) die "unknown voice $voice" ;;
	esac
	sox -V1 -R "$out.raw.wav" -r 16000 -c 1 -b 16 -e signed-integer "$out"
}

rms() {
	sox -V1 "$1" -n stat 2>&1 | awk '/^RMS +amplitude/ { print $3 }'
}

# render OUTDIR JOB: write one corpus file (atomically, skipped if present).
render() {
	local outdir=$1 id kind intent slots voice text1 text2 pause tempo pitch reverb noise snr lead trail peak
	IFS=$'\t' read -r id kind intent slots voice text1 text2 pause tempo pitch reverb noise snr lead trail peak _ <<<"$2"
	local out="$outdir/$id.wav"
	[[ -s $out ]] && return 0
	# Global, not local: the EXIT trap runs after render has returned.
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/earshot-corpus.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	local fmt=(-r 16000 -c 1 -b 16 -e signed-integer)
	case $voice in
	silence | white | pink | brown)
		local src=whitenoise
		[[ $voice == silence ]] || src=${voice}noise
		sox -V1 -R -n "${fmt[@]}" "$tmp/out.wav" synth "$text1" "$src" gain -n "$peak"
		mv "$tmp/out.wav" "$out"
		return 0
		;;
	esac
	if [[ $text2 == - ]]; then
		tts "$voice" "$text1" "$tmp/speech.wav"
	else
		tts "$voice" "$text1" "$tmp/a.wav"
		tts "$voice" "$text2" "$tmp/b.wav"
		sox -V1 -R -n "${fmt[@]}" "$tmp/gap.wav" trim 0 "$pause"
		sox -V1 -R "$tmp/a.wav" "$tmp/gap.wav" "$tmp/b.wav" "$tmp/speech.wav"
	fi
	# Headroom first: tempo, pitch and reverb overshoot a full-scale input.
	local fx=(gain -n -10 tempo -s "$tempo" pitch "$pitch")
	[[ $reverb == 0 ]] || fx+=(reverb "$reverb")
	sox -V1 -R "$tmp/speech.wav" "${fmt[@]}" "$tmp/dry.wav" "${fx[@]}" rate 16k gain -n -6
	local speech_rms
	speech_rms=$(rms "$tmp/dry.wav")
	sox -V1 -R "$tmp/dry.wav" "$tmp/padded.wav" pad "$lead" "$trail"
	if [[ $noise == - ]]; then
		sox -V1 -R "$tmp/padded.wav" "${fmt[@]}" "$tmp/out.wav" gain -n "$peak"
	else
		local dur noise_rms factor
		dur=$(soxi -D "$tmp/padded.wav")
		sox -V1 -R -n "${fmt[@]}" "$tmp/noise.wav" synth "$dur" "${noise}noise" gain -n -20
		noise_rms=$(rms "$tmp/noise.wav")
		factor=$(awk -v s="$speech_rms" -v n="$noise_rms" -v snr="$snr" 'BEGIN { printf "%.6f", s / (n * 10 ^ (snr / 20)) }')
		sox -V1 -R -m -v 1 "$tmp/padded.wav" -v "$factor" "$tmp/noise.wav" "${fmt[@]}" "$tmp/out.wav" gain -n "$peak"
	fi
	mv "$tmp/out.wav" "$out"
}

# complete reports whether OUTDIR holds a finished corpus of this plan.
complete() {
	local outdir=$1 planfile=$2 id
	cmp -s "$planfile" "$outdir/.plan.tsv" || return 1
	[[ -s $outdir/labels.tsv ]] || return 1
	while IFS=$'\t' read -r id _; do
		[[ -s $outdir/$id.wav ]] || return 1
	done <"$planfile"
}

main() {
	local outdir="" mode=full plan_only=0 arg
	for arg in "$@"; do
		case $arg in
		--small) mode=small ;;
		--held-out) mode=held-out ;;
		--plan) plan_only=1 ;;
		-*) usage ;;
		*)
			[[ -z $outdir ]] || usage
			outdir=$arg
			;;
		esac
	done
	if ((plan_only)); then
		plan "$mode"
		return
	fi
	[[ -n $outdir ]] || usage
	local tool
	for tool in flite espeak-ng sox soxi awk xargs nproc; do
		command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install flite espeak-ng sox)"
	done
	[[ $mode != held-out ]] || command -v text2wave >/dev/null || die "text2wave not found (Debian: apt-get install festival festvox-kallpc16k)"
	mkdir -p "$outdir"
	local planfile="$outdir/.plan.tsv.new"
	plan "$mode" >"$planfile"
	if complete "$outdir" "$planfile"; then
		rm -f "$planfile"
		echo "gen.sh: $outdir is up to date ($(wc -l <"$outdir/.plan.tsv") files)"
		return
	fi
	if [[ -f $outdir/.plan.tsv ]] && ! cmp -s "$planfile" "$outdir/.plan.tsv"; then
		# A different plan (--small vs full, or a new commands.tsv): start over.
		rm -rf "$outdir/wake" "$outdir/other"
	fi
	rm -f "$outdir/labels.tsv"
	mv "$planfile" "$outdir/.plan.tsv"
	mkdir -p "$outdir/wake" "$outdir/other"
	local start=$SECONDS
	xargs -d '\n' -n 1 -P "$(nproc)" bash "$self" --render "$outdir" <"$outdir/.plan.tsv" ||
		die "rendering failed; rerun to resume"
	# labels.tsv last: its presence marks a finished corpus.
	{
		printf 'file\tkind\tintent\tslots\tset\tvoice\tnoise\tsnr\n'
		awk -F '\t' -f <(labeller) "$outdir/.plan.tsv"
	} >"$outdir/labels.tsv.tmp"
	mv "$outdir/labels.tsv.tmp" "$outdir/labels.tsv"
	local nwake nother secs
	nwake=$(grep -c $'\twake\t' "$outdir/.plan.tsv")
	nother=$(grep -c $'\tother\t' "$outdir/.plan.tsv")
	secs=$(soxi -DT "$outdir"/other/*.wav)
	printf 'gen.sh: %s: %d wake, %d other (%.0f s of other audio) in %d s\n' "$outdir" "$nwake" "$nother" "$secs" $((SECONDS - start))
}

if [[ ${1:-} == --render ]]; then
	render "$2" "$3"
else
	main "$@"
fi
