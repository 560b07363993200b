// Runs `run(N)` of the V8 benchmark module in Node on the files of DIR:
//   node run.mjs MODULE.wasm DIR N JOB ARGS...
// N = 0 prints the digest of one run's output. With TIME=1, prints the
// milliseconds of one run: the fastest of 5 pairs of N+1 and 1 runs,
// after a warm-up (wall clock: noisy on a shared machine).
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const [path, dir, n, ...job] = process.argv.slice(2);
const wasi = new WASI({
  version: 'preview1',
  args: ['bench', ...job],
  env: {},
  preopens: { '/bench': dir },
});
const module = await WebAssembly.compile(readFileSync(path));
// The engine's crate also holds the proxy-wasm filter, whose host imports
// the jobs never call: stubs that fail loudly if one ever is.
const env = {};
for (const imp of WebAssembly.Module.imports(module)) {
  if (imp.module === 'env') {
    env[imp.name] = () => { throw new Error(`host import ${imp.name} called`); };
  }
}
const instance = await WebAssembly.instantiate(module, {
  wasi_snapshot_preview1: wasi.wasiImport,
  env,
});
wasi.initialize(instance);
if (process.env.TIME) {
  const time = (k) => {
    const t = performance.now();
    instance.exports.run(k);
    return performance.now() - t;
  };
  const k = Number(n);
  time(k + 1);
  const each = [];
  for (let i = 0; i < 5; i++) each.push((time(k + 1) - time(1)) / k);
  // The fastest pair: the one the machine's other load disturbed least.
  console.log(Math.min(...each).toFixed(3));
} else if (Number(n) === 0) {
  console.log(BigInt.asUintN(64, instance.exports.run(0)).toString());
} else {
  const total = instance.exports.run(Number(n));
  if (Number(n) > 0 && total === 0n) throw new Error('nothing was written');
}
