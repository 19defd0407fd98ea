'use strict';
// What a test process leaves behind: nothing. Every file it writes outside e2e/out/ goes into
// one private folder under the temporary directory ($TMPDIR), made on first use and removed
// when the process ends; cleanups registered with onExit run first (last registered first),
// also when the process ends on an uncaught error or on SIGINT, SIGTERM or SIGHUP.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

let root;
const cleanups = [];

function runCleanups() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      fn();
    } catch (err) {
      console.error('# e2e cleanup:', err.message);
    }
  }
  if (root) {
    fs.rmSync(root, { recursive: true, force: true });
    root = undefined;
  }
}

let installed = false;
function install() {
  if (installed) return;
  installed = true;
  process.on('exit', runCleanups);
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.once(sig, () => {
      runCleanups();
      process.exit(code);
    });
  }
}

/** onExit registers fn (synchronous) to run when the process ends; it returns a remover. */
function onExit(fn) {
  install();
  cleanups.push(fn);
  return () => {
    const i = cleanups.lastIndexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** tempDir makes a new folder in this process's private temporary folder. */
function tempDir(prefix) {
  install();
  if (!root) root = fs.mkdtempSync(path.join(os.tmpdir(), 'sportello-e2e-'));
  return fs.mkdtempSync(path.join(root, prefix + '-'));
}

module.exports = { tempDir, onExit };
