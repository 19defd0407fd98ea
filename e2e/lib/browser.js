'use strict';
// Debian's Chromium (never a downloaded browser) driven by playwright-core, with a fresh
// profile per launch. For CIE/CNS the dev client certificate goes into a throwaway NSS
// database under that profile's HOME, and the managed policy AutoSelectCertificateForUrls
// picks it without a prompt.
const { chromium } = require('playwright-core');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { root } = require('./broker');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Debian's chromium reads managed policies only from this root-owned folder (there is no
// per-profile or per-user policy path on Linux): the suite writes its file there for the
// certificate flows and removes it afterwards.
const POLICY_DIR = '/etc/chromium/policies/managed';
const POLICY_FILE = path.join(POLICY_DIR, 'sportello-e2e.json');

const ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-default-apps', '--disable-extensions', '--password-store=basic'];

/** canUsePolicies reports whether the suite may write the managed-policy file. */
function canUsePolicies() {
  try {
    fs.mkdirSync(POLICY_DIR, { recursive: true });
    fs.accessSync(POLICY_DIR, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** importCertificate puts a PEM pair of testdata/pki into a new NSS database under home. */
function importCertificate(home, name) {
  const db = path.join(home, '.pki', 'nssdb');
  fs.mkdirSync(db, { recursive: true });
  const p12 = path.join(home, name + '.p12');
  const pki = path.join(root, 'testdata', 'pki');
  execFileSync('openssl', ['pkcs12', '-export', '-in', path.join(pki, name + '.crt'), '-inkey', path.join(pki, name + '.key'),
    '-out', p12, '-passout', 'pass:', '-name', name]);
  execFileSync('certutil', ['-d', 'sql:' + db, '-N', '--empty-password']);
  execFileSync('pk12util', ['-d', 'sql:' + db, '-i', p12, '-W', '']);
}

function writePolicy(origin) {
  fs.writeFileSync(POLICY_FILE, JSON.stringify({
    AutoSelectCertificateForUrls: [JSON.stringify({ pattern: origin, filter: {} })],
  }));
}

function removePolicy() {
  fs.rmSync(POLICY_FILE, { force: true });
}

/**
 * launch starts Chromium with a fresh user-data-dir. lang sets the browser's language
 * (Accept-Language); cert names a testdata/pki pair to present to certOrigin.
 */
async function launch({ lang, cert, certOrigin, javaScriptEnabled = true }) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sportello-chromium-'));
  if (cert) {
    importCertificate(home, cert);
    writePolicy(certOrigin);
  }
  const context = await chromium.launchPersistentContext(path.join(home, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, `--lang=${lang === 'en' ? 'en-GB' : 'it-IT'}`],
    env: { ...process.env, HOME: home },
    locale: lang === 'en' ? 'en-GB' : 'it-IT',
    viewport: { width: 1280, height: 900 },
    // The dev mTLS listener has a certificate of the dev server CA, unknown to the browser.
    ignoreHTTPSErrors: true,
    javaScriptEnabled,
  });
  return {
    context,
    async close() {
      await context.close();
      if (cert) removePolicy();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

module.exports = { launch, canUsePolicies, removePolicy };
