// Runs `mask_requests(N, MEMO)` of the V8 benchmark module in Node:
//   node run.mjs MODULE.wasm N MEMO
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const [path, n, memo] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [], env: {} });
const module = await WebAssembly.compile(readFileSync(path));
// The engine's crate also holds the proxy-wasm filter, whose host imports
// mask_requests never calls: stubs that fail loudly if one ever is.
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
const total = instance.exports.mask_requests(Number(n), Number(memo));
if (Number(n) > 0 && total === 0n) throw new Error('nothing was masked');
