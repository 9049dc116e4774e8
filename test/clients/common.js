// Shared by the node client scripts: argument parsing, the step runner and the transcript
// format that //test/clients:client_matrix_test compares (test/clients/client_matrix_test.cc).
'use strict';

// node SCRIPT MODULE HOST PORT PREFIX
function parseArgs() {
  const [moduleName, host, port, prefix] = process.argv.slice(2);
  if (!moduleName || !host || !port || !prefix) {
    console.error(`usage: node ${process.argv[1]} MODULE HOST PORT PREFIX`);
    process.exit(2);
  }
  return {moduleName, host, port: Number(port), prefix};
}

// Runs the steps in order: each prints "<name> <result>"; the first failure prints
// "FAIL <name>: <error>" and exits 1. A step that hangs fails after `timeoutMs`.
async function runSteps(steps, timeoutMs = 20000) {
  let current = 'connect';
  const timer = setTimeout(() => {
    console.log(`FAIL ${current}: no answer within ${timeoutMs / 1000} s`);
    process.exit(1);
  }, timeoutMs);
  try {
    for (const [name, fn] of steps) {
      current = name;
      const result = await fn();
      console.log(`${name} ${result}`);
    }
  } catch (err) {
    console.log(`FAIL ${current}: ${err && err.message ? err.message : err}`.replace(/\r?\n/g, ' '));
    process.exit(1);
  }
  clearTimeout(timer);
  console.log('done');
  process.exit(0);
}

const list = (values) => values.map((v) => (v === null ? 'nil' : String(v))).join(',');
const sortedPairs = (obj) =>
  Object.keys(obj).sort().map((k) => `${k}=${String(obj[k])}`).join(',');

module.exports = {parseArgs, runSteps, list, sortedPairs};
