//go:build cgo && !noportaudio && !(race || msan || asan)

package portaudio

// afterInitialize runs under lib.mu, right after Pa_Initialize. Only
// checkptr-instrumented builds need it to do anything (checkptr_race.go).
func afterInitialize() {}
