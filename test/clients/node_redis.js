// node-redis (npm "redis") through the proxy with its default options.
// Usage: node node_redis.js redis4|redis6 HOST PORT PREFIX
'use strict';
const {parseArgs, runSteps, list, sortedPairs} = require('./common.js');

const {moduleName, host, port, prefix: p} = parseArgs();
const {createClient} = require(moduleName);
const client = createClient({socket: {host, port}});
let firstError = null;
client.on('error', (err) => {
  if (firstError === null) {
    firstError = err;
    console.error(`${moduleName} error event: ${err.message}`);
  }
});
const keys = Array.from({length: 10}, (_, i) => `${p}:m${i}`);

runSteps([
  ['connect', async () => {
    await client.connect();
    return 'ok';
  }],
  ['set', () => client.set(`${p}:k1`, 'v1')],
  ['get', () => client.get(`${p}:k1`)],
  ['mset', () => client.mSet(keys.map((k, i) => [k, `val${i}`]))],
  ['mget', async () => list(await client.mGet(keys))],
  ['hset', () => client.hSet(`${p}:h`, {f1: 'a', f2: 'b'})],
  ['hgetall', async () => sortedPairs(await client.hGetAll(`${p}:h`))],
  ['pipeline', async () =>
    list(await client.multi().set(`${p}:p1`, 'x').incr(`${p}:cnt`).get(`${p}:p1`)
        .execAsPipeline())],
  ['multi', async () =>
    list(await client.multi().set(`${p}:{user1}:a`, '1').incrBy(`${p}:{user1}:b`, 5)
        .get(`${p}:{user1}:a`).exec())],
  ['after-multi', async () => list(await client.mGet([`${p}:{user1}:a`, `${p}:{user1}:b`]))],
  ['del', () => client.del(`${p}:k1`)],
  ['quit', async () => {
    await (client.close ? client.close() : client.quit());
    return 'OK';
  }],
]);
