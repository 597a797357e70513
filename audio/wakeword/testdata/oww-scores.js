// oww-scores.js computes oww-scores.json with ONNX Runtime: the scores of
// openWakeWord's hey_jarvis (before its verifier branch, output p1.1, added to
// the graph with the onnx Python package) and alexa heads over the
// embeddings of audio/embedding/testdata/reference.json, 16 at a time.
//   NODE_PATH=<scratch>/node_modules node oww-scores.js ../../embedding/testdata/reference.json
const ort = require('onnxruntime-node'); const fs=require('fs');
(async()=>{
 const ref=JSON.parse(fs.readFileSync(process.argv[2]));
 const E=ref.embeddings; const out={};
 for (const [name,path,key] of [['hey_jarvis','/tmp/hj_p1.onnx','p1.1'],['alexa','/tmp/npmx/package/models/alexa_v0.1.onnx',null]]) {
  const s=await ort.InferenceSession.create(path); const scores=[];
  for (let k=0;k+16<=E.length;k++){ const z=new Float32Array(16*96); for(let j=0;j<16;j++) z.set(E[k+j],j*96);
   const r=await s.run({[s.inputNames[0]]: new ort.Tensor('float32',z,[1,16,96])});
   scores.push((key? r[key]: r[s.outputNames[0]]).data[0]); }
  out[name]=scores;
 }
 console.log(JSON.stringify(out));
})();
