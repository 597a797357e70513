// Package embedding computes the speech embedding earshot's wake stage
// listens through: Google's speech_embedding as openWakeWord uses it, a
// mel front end and a convolution stack trained on large amounts of real
// speech, one 96-value embedding every 80 ms. It runs the two ONNX graphs
// in pure Go (no native runtime), checks them by structure and checksum
// when they load, and matches ONNX Runtime to 1e-4. A Stream computes
// only each layer's new rows, an eighth of the window, allocates nothing,
// and gives the same bits on amd64 and arm64.
package embedding
