// reference.js computes, with ONNX Runtime, what audio/embedding must
// compute in Go: the mel chunks and embeddings of a raw 16 kHz int16 file,
// streamed as stream.go does (480 samples of silence before the audio, a
// chunk of 8 mel frames every 1280 samples, a mel history of ones).
//
//   npm install onnxruntime-node@1.20.1          (in a scratch directory)
//   go test ./audio/embedding -write-signal /tmp/signal.raw
//   NODE_PATH=<scratch>/node_modules node reference.js MODELDIR /tmp/signal.raw > reference.json
const ort = require('onnxruntime-node');
const fs = require('fs');

async function main() {
  const [dir, file] = process.argv.slice(2);
  const mel = await ort.InferenceSession.create(dir + '/melspectrogram.onnx');
  const emb = await ort.InferenceSession.create(dir + '/embedding_model.onnx');
  const b = fs.readFileSync(file);
  const pcm = new Int16Array(b.buffer, b.byteOffset, b.length / 2);
  const buf = new Float32Array(480 + pcm.length);
  buf.set(Float32Array.from(pcm), 480);
  let frames = [];
  for (let i = 0; i < 76; i++) frames.push(new Float32Array(32).fill(1));
  const out = { chunks: [], embeddings: [] };
  for (let start = 0; start + 1760 <= buf.length; start += 1280) {
    const x = new ort.Tensor('float32', buf.slice(start, start + 1760), [1, 1760]);
    const m = (await mel.run({ input: x })).output;
    const rows = [];
    for (let f = 0; f < 8; f++) {
      const row = Float32Array.from(m.data.slice(f * 32, f * 32 + 32), v => v / 10 + 2);
      rows.push(Array.from(row));
      frames.push(row);
    }
    frames = frames.slice(-76);
    out.chunks.push(rows);
    const w = new Float32Array(76 * 32);
    frames.forEach((r, i) => w.set(r, i * 32));
    const e = (await emb.run({ input_1: new ort.Tensor('float32', w, [1, 76, 32, 1]) })).conv2d_19;
    out.embeddings.push(Array.from(e.data));
  }
  process.stdout.write(JSON.stringify(out));
}
main();
