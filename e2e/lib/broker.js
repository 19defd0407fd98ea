'use strict';
// Builds cmd/sportello and runs `sportello dev` on free ports with a fresh data directory, both
// in the process's private temporary folder (lib/scratch.js), removed when the process ends.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { tempDir, onExit } = require('./scratch');

const root = path.resolve(__dirname, '..', '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let binary;
/** build compiles the broker once per run. */
function build() {
  if (!binary) {
    binary = path.join(tempDir('bin'), 'sportello');
    execFileSync('go', ['build', '-o', binary, './cmd/sportello'], { cwd: root, stdio: 'inherit' });
  }
  return binary;
}

async function waitReady(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url + '/readyz');
      if (r.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('sportello dev did not become ready at ' + url);
}

/**
 * startBroker runs sportello dev; stop() ends it and removes its data directory (logFile, the
 * log, is in it). A broker still running when the process ends is killed. extra are more
 * arguments of sportello dev (a later --data wins: a second replica on the first one's keys).
 */
async function startBroker(extra = []) {
  const bin = build();
  const httpPort = await freePort();
  const mtlsPort = await freePort();
  const data = tempDir('data');
  const logFile = path.join(data, 'sportello.log');
  const log = fs.openSync(logFile, 'a');
  const proc = spawn(bin, ['dev', '--http', `127.0.0.1:${httpPort}`, '--mtls', `127.0.0.1:${mtlsPort}`, '--data', data, ...extra],
    { cwd: root, stdio: ['ignore', log, log] });
  const forget = onExit(() => proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL'));
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    await waitReady(url, 90_000);
  } catch (err) {
    // The log goes with the data directory: show its end here.
    console.error(fs.readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n'));
    throw err;
  }
  return {
    url,
    mtls: `https://127.0.0.1:${mtlsPort}`,
    data,
    logFile,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', r)));
      forget();
      fs.closeSync(log);
      fs.rmSync(data, { recursive: true, force: true });
    },
  };
}

module.exports = { startBroker, freePort, root };
