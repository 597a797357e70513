// Package wakenet is earshot's wake-word classifier: a small neural
// network that tells a spoken "hey jarvis" from speech that only sounds
// like it ("hey artist", "say jarvis slowly", "hey jars"), which
// PocketSphinx's acoustic model alone cannot.
//
// It listens to the 1.5 s that end where the keyword spotter fired, as
// 32 log mel energies every 10 ms, each band's mean over the window
// taken away (so neither level nor microphone colouring matters), and
// averaged over 40 ms. Each band has a floor, the energy of white noise
// at -82 dBFS, so that digital silence and a quiet room look alike.
// Three networks of one hidden layer, trained alike from different
// random starts, each give a probability; the score is their mean.
// Scoring a window from audio takes under a millisecond here; a Stream
// keeps the input as speech arrives, so scanning it costs 45 µs per 40
// ms. Neither allocates.
//
// The listener (audio/listen) uses the score four ways, with thresholds
// chosen on data held back from training (see Thresholds): a candidate
// scored very low is dropped before the verifier decodes it, which is
// most of them; a wake phrase the verifier heard is kept only if the
// score agrees; one the verifier rejected is a wake phrase after all if
// the score is very high (and looked at again, warped, if it is in
// between); and a window of speech the spotter did not fire on is a
// candidate if it scores higher still.
//
// The net that ships (hey_jarvis.bin) was trained by ./train on four
// generated corpora (audio/corpus/gen.sh --train, seeds 5150 to 5153) of
// the same synthetic voices, but with their own seeds and near misses,
// none of which is in the evaluation corpus. It knows one phrase: with
// another wake phrase the listener goes without it.
package wakenet
