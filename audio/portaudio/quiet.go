//go:build cgo && !noportaudio

package portaudio

/*
#define _GNU_SOURCE
#include <dlfcn.h>

// ALSA and JACK print their own diagnostics to stderr while PortAudio
// probes every host API and device: some 60 lines ("ALSA lib pcm.c: Unknown
// PCM cards.pcm.rear", "jack server is not running") before the one error
// that matters, which PortAudio returns anyway. Both libraries take a
// handler for them; they are looked up at run time, so earshot links
// neither itself.
static void earshot_quiet_alsa(const char *file, int line, const char *fn, int err, const char *fmt, ...) {}
static void earshot_quiet_jack(const char *msg) {}

static void earshot_quiet_audio_libs(void) {
	int (*alsa)(void *) = (int (*)(void *))dlsym(RTLD_DEFAULT, "snd_lib_error_set_handler");
	if (alsa) alsa((void *)earshot_quiet_alsa);
	void (*jack_error)(void (*)(const char *)) = (void (*)(void (*)(const char *)))dlsym(RTLD_DEFAULT, "jack_set_error_function");
	if (jack_error) jack_error(earshot_quiet_jack);
	void (*jack_info)(void (*)(const char *)) = (void (*)(void (*)(const char *)))dlsym(RTLD_DEFAULT, "jack_set_info_function");
	if (jack_info) jack_info(earshot_quiet_jack);
}
*/
import "C"

import "os"

// DebugEnv keeps ALSA's and JACK's own messages on stderr when set to 1,
// for debugging a sound setup.
const DebugEnv = "EARSHOT_AUDIO_DEBUG"

// quietAudioLibs silences ALSA's and JACK's stderr chatter before PortAudio
// initialises. The caller holds lib.mu.
func quietAudioLibs() {
	if !lib.quiet && os.Getenv(DebugEnv) != "1" {
		C.earshot_quiet_audio_libs()
	}
	lib.quiet = true
}
