// memjs (memcached's binary protocol) through the proxy with its default options.
// Usage: node memjs.js memjs HOST PORT PREFIX
'use strict';
const {parseArgs, runSteps, sortedPairs} = require('./common.js');

const {moduleName, host, port, prefix: p} = parseArgs();
const memjs = require(moduleName);
const client = memjs.Client.create(`${host}:${port}`);
const keys = Array.from({length: 6}, (_, i) => `${p}:m${i}`);
const ok = (b) => (b ? 'OK' : 'FAILED');
const str = (v) => (v === null || v === undefined ? 'MISS' : v.toString());

runSteps([
  ['set', async () => ok(await client.set(`${p}:k1`, 'v1', {expires: 0}))],
  ['get', async () => str((await client.get(`${p}:k1`)).value)],
  ['setmany', async () => {
    for (let i = 0; i < keys.length; i++) {
      if (!(await client.set(keys[i], `val${i}`, {expires: 0}))) return 'FAILED';
    }
    return 'OK';
  }],
  // memjs 1.3.2 (the newest release) has no multi-get call: concurrent gets, which memjs
  // pipelines on its one connection.
  ['getmulti', async () => {
    const results = await Promise.all(keys.map((k) => client.get(k)));
    const out = {};
    keys.forEach((k, i) => { out[k.slice(p.length + 1)] = str(results[i].value); });
    return sortedPairs(out);
  }],
  ['incr', async () => {
    await client.set(`${p}:cnt`, '5', {expires: 0});
    const {success, value} = await client.increment(`${p}:cnt`, 1, {});
    return success ? String(value) : 'FAILED';
  }],
  ['delete', async () => ok(await client.delete(`${p}:k1`))],
  ['get-deleted', async () => str((await client.get(`${p}:k1`)).value)],
  ['quit', async () => {
    client.quit();
    return 'OK';
  }],
]);
