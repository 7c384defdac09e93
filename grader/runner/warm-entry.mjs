// A vitest test worker that stays alive between runs (see warm-pool.ts). It is vitest's own
// forks worker (vitest/dist/workers/forks.js) with one change: a "stop" request tears the run
// down but does not remove the message listener, so the next run reuses this process with its
// modules loaded and its code hot. Plain JS: node runs it without a loader.
import { init, runBaseTests, setupEnvironment } from 'vitest/worker';

if (!process.send) throw new Error('dmalab warm worker: expected to run in node:child_process');
const processExit = process.exit.bind(process);
const processSend = process.send.bind(process);
const processOn = process.on.bind(process);
const processOff = process.off.bind(process);

processOn('error', (error) => {
  if (error?.code === 'ERR_IPC_CHANNEL_CLOSED' || error?.code === 'EPIPE') processExit(1);
});
processOn('disconnect', () => processExit(0));

async function execute(method, state, traces) {
  try {
    await runBaseTests(method, state, traces);
  } finally {
    process.exit = processExit;
  }
}

init({
  post: (v) => processSend(v),
  on: (cb) => processOn('message', cb),
  off: (cb) => processOff('message', cb),
  teardown: () => {},
  runTests: (state, traces) => execute('run', state, traces),
  collectTests: (state, traces) => execute('collect', state, traces),
  setup: setupEnvironment,
});
processSend({ __dmalab_ready__: true });
