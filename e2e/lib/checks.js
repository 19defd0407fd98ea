'use strict';
// What every visited page must pass: axe-core (WCAG 2.1 A and AA), no Content-Security-Policy
// violation, reflow at 200 % zoom (1280 px shown in 640 CSS px: no horizontal scrolling), and
// a full-page screenshot into the screenshot folder.
const fs = require('node:fs');
const path = require('node:path');
const assert = require('node:assert/strict');

// Every page's screenshot goes to e2e/out/screenshots/ (ignored by git) or $SCREENSHOTS.
// e2e/screenshots/ is the tracked reference set the READMEs show: a run rewrites its files
// only when asked with UPDATE_SCREENSHOTS=1, and then only those already there (to add one,
// copy it from the output folder, then refresh it). Pixels are not compared: fonts render
// differently from one machine to the next.
const SCREENSHOTS = path.resolve(process.env.SCREENSHOTS || path.join(__dirname, '..', 'out', 'screenshots'));
const REFERENCE = path.join(__dirname, '..', 'screenshots');
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
// A reference file is the full page when its PNG fits in REFERENCE_MAX bytes, else the first
// screen (the 1280 × 900 viewport): long pages (every IdP, every client, the whole audit trail)
// would weigh half a megabyte each in the repository's history.
const REFERENCE_MAX = 128 * 1024;
fs.mkdirSync(SCREENSHOTS, { recursive: true });
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** watch records the CSP violations the browser reports on a page. */
function watch(page) {
  const violations = [];
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text().slice(0, 300));
  });
  return violations;
}

/**
 * visit checks the current page and saves its screenshot as <name>.png. foreign marks a page
 * sportello does not render itself (the dev SPID IdP): its CSP reports are printed, not fatal.
 */
async function visit(page, name, cspViolations, { foreign = false } = {}) {
  await page.waitForLoadState('load');
  await page.evaluate(() => document.fonts && document.fonts.ready);
  // The page's own CSP reports, before the tools below touch it (Playwright's screenshot
  // injects a style of its own, which a strict CSP reports on some pages).
  if (cspViolations && foreign) {
    for (const v of cspViolations.splice(0)) console.warn(`# ${name} (not a sportello page): ${v}`);
  }
  if (cspViolations) assert.deepEqual(cspViolations.splice(0), [], `${name}: CSP violations`);
  // axe is evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const problems = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
  const shot = await page.screenshot({ path: path.join(SCREENSHOTS, name + '.png'), fullPage: true });
  const reference = path.join(REFERENCE, name + '.png');
  if (UPDATE && fs.existsSync(reference)) {
    const kept = shot.length <= REFERENCE_MAX ? shot : await page.screenshot();
    if (kept.length > REFERENCE_MAX) console.warn(`# ${name}: even its first screen is ${kept.length} bytes`);
    fs.writeFileSync(reference, kept);
  }
  assert.deepEqual(problems, [], `axe found WCAG 2.1 A/AA violations on ${name} (${page.url()})`);
  // The layout's stylesheets are applied (a page whose CSS failed to load still passes axe).
  const sheets = await page.evaluate(() => /Titillium/.test(getComputedStyle(document.body).fontFamily) &&
    [...document.fonts].some((f) => /Titillium/.test(f.family) && f.status === 'loaded'));
  if (!foreign && !sheets && (await page.locator('link[href*="/static/"]').count())) {
    assert.fail(`${name}: the stylesheets or fonts did not load (${page.url()})`);
  }
  // sportello draws no page on the mTLS origin (it has no keep-alive: assets there would need
  // a handshake each and got lost); its refusals are shown on the issuer origin.
  if (!foreign && new URL(page.url()).protocol === 'https:') {
    assert.fail(`${name}: a sportello page drawn on the mTLS origin (${page.url()})`);
  }
  const lang = await page.evaluate(() => document.documentElement.lang);
  assert.ok(lang, `${name}: no lang attribute`);
  assert.ok((await page.title()).trim(), `${name}: no title`);
  await page.setViewportSize({ width: 640, height: 900 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.ok(overflow <= 1, `${name}: horizontal scrolling at 200 % zoom (${overflow}px)`);
  if (cspViolations) cspViolations.splice(0); // the tools' own reports
}

/** claims reads the verified ID-token claims shown by the relying party page. */
async function claims(page) {
  await page.waitForURL(/127\.0\.0\.1:9000\/callback/);
  const err = await page.locator('#error').count();
  if (err) throw new Error('relying party: ' + (await page.locator('#error').textContent()));
  return JSON.parse(await page.locator('#claims').textContent());
}

/**
 * followSAML waits while SAML HTTP-POST forms carry the browser between the broker and the
 * IdP: a form that has not submitted itself within a second is submitted with its button,
 * as a person without JavaScript would. It returns on the relying party or on a page that
 * is not a SAML form (the delegation question).
 */
async function followSAML(page, cspViolations = []) {
  try {
    await followForms(page);
  } finally {
    // The SAML POST forms (the broker's and the dev IdP's, providers/saml/samlx)
    // auto-submit under the Content-Security-Policy: any violation on the way is a defect.
    const seen = cspViolations.splice(0);
    if (seen.length) throw new Error(`CSP violation on a SAML POST form: ${seen[0].slice(0, 200)}`);
  }
}

async function followForms(page) {
  for (let i = 0; i < 20; i++) {
    await page.waitForLoadState('load');
    if (page.url().startsWith('http://127.0.0.1:9000/')) return;
    const saml = page.locator('form[method=post]:has(input[name=SAMLResponse]), form[method=post]:has(input[name=SAMLRequest])');
    if (!(await saml.count())) {
      if (await page.locator('input[name=username]').count()) return;
      await page.waitForTimeout(300);
      if (page.url().startsWith('http://127.0.0.1:9000/') || !(await saml.count())) return;
    }
    const before = page.url();
    await page.waitForURL((u) => u.toString() !== before, { timeout: 1000 }).catch(async () => {
      await saml.locator('button[type=submit]').click();
    });
  }
  throw new Error('stuck in SAML forms at ' + page.url());
}

module.exports = { visit, watch, claims, followSAML, SCREENSHOTS };
