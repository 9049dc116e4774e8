// ioredis through the proxy with its default options (ready check = INFO, offline queue,
// retries). Usage: node ioredis.js ioredis5|ioredis6 HOST PORT PREFIX
'use strict';
const {parseArgs, runSteps, list, sortedPairs} = require('./common.js');

const {moduleName, host, port, prefix: p} = parseArgs();
const Redis = require(moduleName);
const redis = new Redis(port, host);
let firstError = null;
redis.on('error', (err) => {
  if (firstError === null) {
    firstError = err;
    console.error(`${moduleName} error event: ${err.message}`);
  }
});
const keys = Array.from({length: 10}, (_, i) => `${p}:m${i}`);
const pairs = (results) => {
  for (const [err] of results) if (err) throw err;
  return list(results.map(([, v]) => v));
};

runSteps([
  ['connect', async () => {
    if (redis.status !== 'ready') {
      await new Promise((resolve, reject) => {
        redis.once('ready', resolve);
        redis.once('end', () => reject(firstError || new Error('connection ended')));
      });
    }
    return 'ok';
  }],
  ['set', () => redis.set(`${p}:k1`, 'v1')],
  ['get', () => redis.get(`${p}:k1`)],
  ['mset', () => redis.mset(...keys.flatMap((k, i) => [k, `val${i}`]))],
  ['mget', async () => list(await redis.mget(...keys))],
  ['hset', () => redis.hset(`${p}:h`, {f1: 'a', f2: 'b'})],
  ['hgetall', async () => sortedPairs(await redis.hgetall(`${p}:h`))],
  ['pipeline', async () =>
    pairs(await redis.pipeline().set(`${p}:p1`, 'x').incr(`${p}:cnt`).get(`${p}:p1`).exec())],
  ['multi', async () =>
    pairs(await redis.multi().set(`${p}:{user1}:a`, '1').incrby(`${p}:{user1}:b`, 5)
        .get(`${p}:{user1}:a`).exec())],
  ['after-multi', async () => list(await redis.mget(`${p}:{user1}:a`, `${p}:{user1}:b`))],
  ['del', () => redis.del(`${p}:k1`)],
  ['quit', () => redis.quit()],
]);
