'use strict';
// Where the certificate flows' Chromium finds its managed policy (AutoSelectCertificateForUrls).
// Debian's Chromium reads managed policies only from /etc/chromium/policies/managed/: on Linux
// it has no per-profile or per-user policy, and neither --policy (honoured by Android debug
// builds only) nor --auto-ssl-client-auth answers the certificate prompt. So, the first of
// these that works:
//
// private: Chromium runs in a mount namespace of its own (unshare(1), as root or as any user
//   where unprivileged user namespaces are allowed), in which a copy of /etc/chromium holding
//   the policy is bound over /etc/chromium. Nothing outside the browser's own view changes, and
//   runs side by side do not see each other's policies.
// global: the policy file is written into /etc/chromium/policies/managed/ (root) under an
//   exclusive flock(1) on /etc/chromium held for the browser's life; a file already there is
//   put back afterwards and folders made for it are removed, also when a test fails or the
//   run is interrupted (lib/scratch.js). Another run waits for the lock.
//
// SPORTELLO_E2E_POLICY=private or =global takes only that one.
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { tempDir, onExit } = require('./scratch');

const ETC = '/etc/chromium';
const POLICY_DIR = path.join(ETC, 'policies', 'managed');
const POLICY_NAME = 'sportello-e2e.json';

const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const unshareArgs = () => ['--mount', '--propagation', 'private', ...(process.getuid() === 0 ? [] : ['--map-root-user'])];

/** privateProblem says why a private /etc/chromium cannot be mounted here ('' if it can). */
function privateProblem() {
  if (!fs.statSync(ETC, { throwIfNoEntry: false })?.isDirectory()) return `${ETC} is missing (apt-get install chromium)`;
  const dir = tempDir('probe');
  fs.writeFileSync(path.join(dir, 'probe'), '');
  try {
    execFileSync('unshare', [...unshareArgs(), '--', 'sh', '-c', 'mount --bind "$1" "$2" && test -e "$2/probe"', 'sh', dir, ETC],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    return '';
  } catch (err) {
    return `no private mount namespace for ${ETC} (unshare --mount: ${String(err.stderr || err.message).trim()})`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** globalProblem says why the policy cannot be written into /etc/chromium ('' if it can). */
function globalProblem() {
  let dir = POLICY_DIR;
  while (!fs.existsSync(dir)) dir = path.dirname(dir);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return '';
  } catch {
    return `cannot write Chromium managed policies (${POLICY_DIR} needs root)`;
  }
}

let chosen;
/** mode is 'private' or 'global', or the reason why neither works. */
function mode() {
  if (chosen) return chosen;
  const forced = process.env.SPORTELLO_E2E_POLICY;
  if (forced && forced !== 'private' && forced !== 'global') throw new Error(`SPORTELLO_E2E_POLICY=${forced}: private or global`);
  const why = [];
  for (const m of forced ? [forced] : ['private', 'global']) {
    const problem = m === 'private' ? privateProblem() : globalProblem();
    if (!problem) return (chosen = { mode: m });
    why.push(problem);
  }
  return (chosen = { why: why.join('; ') });
}

/** unavailable says why no managed policy can be given to Chromium here ('' if one can). */
function unavailable() {
  return mode().why || '';
}

/** applyPrivate writes a launcher that runs chromium with a private /etc/chromium holding policy. */
function applyPrivate(home, chromium, policy) {
  const etc = path.join(home, 'etc-chromium');
  // The machine's own policies stay out: the browser sees this run's policy only.
  fs.cpSync(ETC, etc, { recursive: true, filter: (src) => src !== path.join(ETC, 'policies') });
  fs.mkdirSync(path.join(etc, 'policies', 'managed'), { recursive: true });
  fs.writeFileSync(path.join(etc, 'policies', 'managed', POLICY_NAME), JSON.stringify(policy));
  const launcher = path.join(home, 'chromium');
  fs.writeFileSync(launcher, `#!/bin/sh
# Chromium with a private ${ETC} (its managed policies), in a mount namespace of its own.
exec unshare ${unshareArgs().join(' ')} -- /bin/sh -c 'mount --bind "$1" ${ETC} && shift && exec "$@"' sh ${quote(etc)} ${quote(chromium)} "$@"
`, { mode: 0o755 });
  return { executablePath: launcher, release() {} };
}

/** lock takes an exclusive flock on ETC, held by a flock(1) child until release or our exit. */
function lock() {
  return new Promise((resolve, reject) => {
    const holder = spawn('flock', ['--exclusive', ETC, 'sh', '-c', 'echo locked; exec cat >/dev/null'],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    const waiting = setTimeout(() => console.error(`# waiting for the lock on ${ETC} (another run's certificate flow)`), 2000);
    let out = '';
    holder.on('error', (err) => { clearTimeout(waiting); reject(err); });
    holder.on('exit', (code) => { clearTimeout(waiting); reject(new Error(`flock ${ETC} ended (${code})`)); });
    holder.stdout.on('data', (d) => {
      out += d;
      if (!out.includes('locked')) return;
      clearTimeout(waiting);
      holder.removeAllListeners('exit');
      // The lock lasts as long as the pipe: it never keeps this process alive, and ends with it.
      holder.unref();
      holder.stdin.unref();
      holder.stdout.unref();
      resolve(() => holder.stdin.end());
    });
  });
}

/** applyGlobal writes policy into POLICY_DIR under the lock; release puts everything back. */
async function applyGlobal(chromium, policy) {
  const unlock = await lock();
  const file = path.join(POLICY_DIR, POLICY_NAME);
  const before = fs.existsSync(file) ? fs.readFileSync(file) : null;
  const made = [];
  for (let dir = POLICY_DIR; !fs.existsSync(dir); dir = path.dirname(dir)) made.unshift(dir);
  let done = false;
  const restore = () => {
    if (done) return;
    done = true;
    try {
      if (before) fs.writeFileSync(file, before);
      else fs.rmSync(file, { force: true });
      for (const dir of made.reverse()) {
        try {
          fs.rmdirSync(dir);
        } catch { /* something else was put there meanwhile: leave it */ }
      }
    } finally {
      unlock();
    }
  };
  const forget = onExit(restore);
  try {
    for (const dir of made) fs.mkdirSync(dir);
    fs.writeFileSync(file, JSON.stringify(policy));
  } catch (err) {
    forget();
    restore();
    throw err;
  }
  return { executablePath: chromium, release() { forget(); restore(); } };
}

/**
 * apply gives the next Chromium launched from executablePath the managed policy; release
 * (always called, also when the launch fails) undoes what it did.
 */
async function apply(home, chromium, policy) {
  const m = mode();
  if (m.why) throw new Error(m.why);
  return m.mode === 'private' ? applyPrivate(home, chromium, policy) : applyGlobal(chromium, policy);
}

module.exports = { apply, unavailable };
