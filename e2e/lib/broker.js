'use strict';
// Builds cmd/sportello and runs `sportello dev` on free ports with a fresh data directory.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

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
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sportello-e2e-bin-'));
    binary = path.join(dir, 'sportello');
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

/** startBroker runs sportello dev; stop() ends it. The log is kept in logFile. */
async function startBroker() {
  const bin = build();
  const httpPort = await freePort();
  const mtlsPort = await freePort();
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'sportello-e2e-data-'));
  const logFile = path.join(data, 'sportello.log');
  const log = fs.openSync(logFile, 'a');
  const proc = spawn(bin, ['dev', '--http', `127.0.0.1:${httpPort}`, '--mtls', `127.0.0.1:${mtlsPort}`, '--data', data],
    { cwd: root, stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${httpPort}`;
  await waitReady(url, 90_000);
  return {
    url,
    mtls: `https://127.0.0.1:${mtlsPort}`,
    logFile,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      fs.closeSync(log);
    },
  };
}

module.exports = { startBroker, freePort, root };
