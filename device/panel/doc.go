// Package panel drives the physical controls of an earshot device: the mute
// button and the mute LED, on GPIO pins through periph.io.
//
// It guarantees that a bouncing contact yields exactly one press, that a
// press held at startup or cut short by shutdown never triggers the history
// wipe, that Run always returns within one poll interval of its context
// ending, and that Set and Blink never block the caller.
package panel
