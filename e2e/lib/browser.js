'use strict';
// Debian's Chromium (never a downloaded browser) driven by playwright-core, with a fresh
// profile per launch. For CIE/CNS the dev client certificate goes into a throwaway NSS
// database under that profile's HOME, and the managed policy AutoSelectCertificateForUrls
// picks it without a prompt (lib/policy.js says where that policy is written).
const { chromium } = require('playwright-core');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { root } = require('./broker');
const { tempDir } = require('./scratch');
const policy = require('./policy');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-default-apps', '--disable-extensions', '--password-store=basic'];

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

/**
 * launch starts Chromium with a fresh user-data-dir. lang sets the browser's language
 * (Accept-Language); cert names a testdata/pki pair to present to certOrigin.
 */
async function launch({ lang, cert, certOrigin, javaScriptEnabled = true }) {
  const home = tempDir('chromium');
  let executablePath = CHROMIUM;
  let release = () => {};
  try {
    if (cert) {
      importCertificate(home, cert);
      ({ executablePath, release } = await policy.apply(home, CHROMIUM, {
        AutoSelectCertificateForUrls: [JSON.stringify({ pattern: certOrigin, filter: {} })],
      }));
    }
    const context = await chromium.launchPersistentContext(path.join(home, 'profile'), {
      executablePath,
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
        try {
          await context.close();
        } finally {
          release();
          fs.rmSync(home, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    release();
    fs.rmSync(home, { recursive: true, force: true });
    throw err;
  }
}

/** whyNoCertificates says why this machine cannot run the certificate flows ('' if it can). */
function whyNoCertificates() {
  return policy.unavailable();
}

module.exports = { launch, whyNoCertificates };
