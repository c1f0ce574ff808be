// Runs one attention job in this process and prints its figures as JSON on stdout: the result's
// sizes, the seconds it took and the process's peak RSS (for the memory bound of the attention view).
import { runAttentionJob } from '../../src-main/engine/jobs/kinds/attention.js';

const [model, length, layer, head] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] ?? 0), Number(process.argv[5] ?? 0)];
const residues = 'LAGVSERTIDPKQNFYMHWC';
let x = 11;
let sequence = '';
for (let i = 0; i < length; i++) {
  x = (x * 1103515245 + 12345) % 2147483648;
  sequence += residues[x % 20];
}
const t0 = performance.now();
const r = await runAttentionJob({ model, sequence: { id: 'p', sequence }, layer, head }, { signal: new AbortController().signal, progress: () => undefined, home: process.cwd(), jobId: 'x' });
const json = JSON.stringify(r);
process.stdout.write(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRssBytes: process.resourceUsage().maxRSS * 1024, resultBytes: json.length, layers: r.layers, heads: r.heads, T: r.map.shape[0], thumbnail: r.thumbnails.size, headMax: r.headMax.length }) + '\n');
