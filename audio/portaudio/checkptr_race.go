//go:build cgo && !noportaudio && (race || msan || asan)

package portaudio

import pa "github.com/gordonklaus/portaudio"

// gordonklaus/portaudio passes each stream's small integer id to C as
// unsafe.Pointer(id). Under -race (and -msan, -asan) the compiler adds
// checkptr, which aborts the process on any such pointer below 4096, so
// the second stream a race-enabled test opens would crash. Ids are never
// reused and an OpenStream that fails its argument check still consumes one,
// so burning the first 4096 once makes every later id legal. Normal builds
// do not compile this file.
const checkptrMinLegalPointer = 4096

var idsBurned bool

// afterInitialize runs under lib.mu, right after Pa_Initialize.
func afterInitialize() {
	if idsBurned {
		return
	}
	idsBurned = true
	for range checkptrMinLegalPointer {
		// No args: fails in Go before reaching C, but takes an id.
		_, _ = pa.OpenStream(pa.StreamParameters{})
	}
}
