'use strict';
// Full logins per credential in a real Chromium, in Italian and in English, each ending at a
// relying-party page that shows the verified ID-token claims. Every page is checked by
// axe-core and screenshotted (see lib/checks.js).
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startBroker } = require('../lib/broker');
const { startRP } = require('../lib/rp');
const { launch, whyNoCertificates } = require('../lib/browser');
const { visit, watch, claims, followSAML } = require('../lib/checks');

const L1 = 'https://www.spid.gov.it/SpidL1';
const L2 = 'https://www.spid.gov.it/SpidL2';
const L3 = 'https://www.spid.gov.it/SpidL3';

const GIOVANNA = { cf: 'FRRGNN55T50Z600A', pin: 'A1B2C3D4' };
const LUCIA = { cf: 'ESPLCU90D45Z404Y', pin: '1A2B3C4D5E6F7089', next: 'K7M2Q9X4' };
const MARCO = { cf: 'CLMMRC70B10G273W' };
const MARIO = { cf: 'RSSMRA80A01H501U' };
const LAURA = { cf: 'BNCLRA85M41F205C' };
const GIUSEPPE = { cf: 'VRDGPP40C15L219U' };
const SPID_PASSWORD = 'test-password';

/** skipOrFail skips a flow this machine cannot run, except in CI, where every flow must run. */
function skipOrFail(t, why) {
  if (process.env.CI) assert.fail(`${why} (CI runs every flow)`);
  t.skip(why);
}

let rp;
before(async () => { rp = await startRP(); });
after(async () => { await rp.close(); });

for (const lang of ['it', 'en']) {
  describe(`pages in ${lang === 'it' ? 'Italian' : 'English'}`, () => {
    let broker;
    let browser;
    before(async () => {
      broker = await startBroker();
      rp.setIssuer(broker.url);
      browser = await launch({ lang });
    });
    after(async () => {
      await browser?.close();
      await broker?.stop();
    });

    /** open starts a login at the relying party and returns the page at the broker. */
    async function open(acr, extra = {}) {
      const page = await browser.context.newPage();
      const csp = watch(page);
      // prompt=login: each flow logs in again even though an earlier one left an SSO session.
      await page.goto(`${rp.url}/start?` + new URLSearchParams({ acr_values: acr, prompt: 'login', ...extra }));
      return { page, csp };
    }

    test('chooser lists every credential and hides what cannot reach the level', async () => {
      const { page, csp } = await open(L2);
      // The dev IdPs' metadata is first fetched before the listener is up: wait for the list.
      for (let i = 0; i < 50 && !(await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').count()); i++) {
        await page.waitForTimeout(300);
        await page.reload();
      }
      await visit(page, `chooser-${lang}`, csp);
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
      // Keyboard: the first Tab reaches the skip link, which moves the focus to the content.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '#main');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Tab');
      assert.ok(await page.evaluate(() => document.querySelector('main').contains(document.activeElement)),
        'after the skip link the focus is inside main');
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps summary').click();
      await visit(page, `chooser-spid-open-${lang}`, csp);
      // The switch keeps the login in progress.
      await page.locator('a[hreflang]').click();
      assert.equal(await page.locator('html').getAttribute('lang'), lang === 'it' ? 'en' : 'it');
      assert.ok(await page.locator('.sp-choice').count() >= 3);
      await page.locator('a[hreflang]').click();
      await page.close();

      const l3 = await open(L3);
      await visit(l3.page, `chooser-L3-${lang}`, l3.csp);
      assert.equal(await l3.page.locator('.sp-hidden li').count(), 1, 'the PIN is hidden at L3, with the reason');
      await l3.page.close();
    });

    test('PIN login', async () => {
      const { page, csp } = await open(L2);
      await page.locator('.sp-choice a[href$="/pin"]').click();
      await visit(page, `pin-login-${lang}`, csp);
      await page.locator('#f-fiscal_code').fill(GIOVANNA.cf);
      await page.locator('#f-pin').fill(GIOVANNA.pin);
      await page.locator('form.sp-form button[type=submit]').click();
      const c = await claims(page);
      await visit(page, `rp-pin-${lang}`);
      assert.equal(c.auth_method, 'pin');
      assert.equal(c.fiscal_number, GIOVANNA.cf);
      assert.equal(c.acr, L2);
      await page.close();
    });

    test('PIN first access', async () => {
      const { page, csp } = await open(L1);
      await page.locator('.sp-choice a[href$="/pin"]').click();
      await page.locator('#f-fiscal_code').fill(LUCIA.cf);
      await page.locator('#f-pin').fill(LUCIA.pin);
      await page.locator('form.sp-form button[type=submit]').click();
      await page.locator('#f-new_pin').waitFor();
      await visit(page, `pin-first-access-${lang}`, csp);
      await page.locator('#f-fiscal_code').fill(LUCIA.cf);
      await page.locator('#f-current_pin').fill(LUCIA.pin);
      await page.locator('#f-new_pin').fill(LUCIA.next);
      await page.locator('#f-new_pin2').fill(LUCIA.next);
      await page.locator('form.sp-form button[type=submit]').click();
      const c = await claims(page);
      assert.equal(c.fiscal_number, LUCIA.cf);
      await page.close();
    });

    test('PIN lockout message', async () => {
      const { page, csp } = await open(L1);
      await page.locator('.sp-choice a[href$="/pin"]').click();
      for (const attempt of ['WRONG111', 'WRONG222']) {
        await page.locator('#f-fiscal_code').fill(MARCO.cf);
        await page.locator('#f-pin').fill(attempt);
        await page.locator('form.sp-form button[type=submit]').click();
        await page.locator('#form-error').waitFor();
      }
      const text = await page.locator('#form-error').textContent();
      assert.match(text, lang === 'it' ? /riprova tra \d+ minut[io] \(alle \d\d:\d\d ora italiana, CES?T, UTC\+[12]\)/i
        : /try again in \d+ minutes? \(at \d\d:\d\d Italian time, CES?T, UTC\+[12]\)/i);
      assert.equal(await page.locator('#f-pin').getAttribute('aria-invalid'), 'true');
      assert.match(await page.locator('#f-pin').getAttribute('aria-describedby'), /form-error/);
      await visit(page, `pin-lockout-${lang}`, csp);
      await page.close();
    });

    test('expired login: error page with what to do and a reference', async () => {
      const page = await browser.context.newPage();
      const csp = watch(page);
      await page.goto(`${broker.url}/login/no-such-login`);
      await visit(page, `error-expired-${lang}`, csp);
      assert.ok((await page.locator('.sp-ref').textContent()).trim().length > 4);
      await page.close();
    });
    /** spidLogin goes from the chooser through the first dev IdP to the relying party. */
    async function spidLogin(page, csp, cf, shots) {
      for (let i = 0; i < 50 && !(await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').count()); i++) {
        await page.waitForTimeout(300);
        await page.reload();
      }
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps summary').click();
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').first().click();
      await page.locator('input[name=username]').waitFor();
      if (shots) await visit(page, `spid-idp-${lang}`, csp, { foreign: true });
      await page.locator('input[name=username]').fill(cf);
      await page.locator('input[name=password]').fill(SPID_PASSWORD);
      await page.locator('button[value=login]').click();
      await followSAML(page, csp);
    }

    test('SPID login at L2 through a dev identity provider', async () => {
      const { page, csp } = await open(L2);
      await spidLogin(page, csp, MARIO.cf, true);
      const c = await claims(page);
      await visit(page, `rp-spid-${lang}`);
      assert.equal(c.auth_method, 'spid');
      assert.equal(c.acr, L2);
      assert.equal(c.fiscal_number, MARIO.cf);
      assert.ok(c.spid_idp, 'spid_idp claim');
      // With that session: the PIN telefonico page, then a logout no relying party vouched for
      // (the confirmation form) and the page after it.
      await page.goto(`${broker.url}/pin/phone`);
      await visit(page, `pin-phone-${lang}`, csp);
      assert.ok(await page.locator('form button[type=submit]').count(), 'the PIN telefonico form is offered');
      await page.goto(`${broker.url}/end_session`);
      await visit(page, `logout-confirm-${lang}`, csp);
      await page.locator('form button[type=submit]').click();
      await page.waitForURL(/\/logged-out/);
      await visit(page, `logged-out-${lang}`, csp);
      await page.close();
    });

    for (const [profile, display] of [['spid', 'SPID OIDC (dev)'], ['cie', 'CIE OIDC (dev)']]) {
      test(`${profile.toUpperCase()} over OpenID Connect Federation at L3 through the dev ${profile.toUpperCase()} OP`, async () => {
        const { page, csp } = await open(L3);
        if (profile === 'spid') {
          // The SPID OPs are a SPID entry of their own, with AgID's button and its list.
          await page.locator('[aria-labelledby="opt-oidcfed-spid"] .sp-idps summary').click();
          await page.locator('[aria-labelledby="opt-oidcfed-spid"] .sp-idps a', { hasText: display }).click();
        } else {
          // The CIE OP is a CIE entry: the "Entra con CIE" button, no SPID mark.
          assert.equal(await page.locator('[aria-labelledby="opt-oidcfed-cieid"] .sp-spid-btn').count(), 0);
          await page.locator('[aria-labelledby="opt-oidcfed-cieid"] a.sp-cie-btn').click();
        }
        await page.locator('input[name=username]').waitFor();
        await page.locator('input[name=username]').fill(MARIO.cf);
        await page.locator('input[name=password]').fill(SPID_PASSWORD);
        await page.locator('select[name=level]').selectOption('3');
        await page.locator('button[value=login]').click();
        const c = await claims(page);
        await visit(page, `rp-oidcfed-${profile}-${lang}`);
        assert.equal(c.auth_method, profile);
        assert.equal(c.acr, L3);
        assert.equal(c.fiscal_number, MARIO.cf);
        assert.equal(c.family_name, 'Rossi');
        assert.equal(c[`${profile}_op`] !== undefined, true);
        await page.close();
      });
    }
    test('CIE ID ("Entra con CIE") login at L3 through the dev CIE ID server', async () => {
      const { page, csp } = await open(L2);
      await page.locator('section[aria-labelledby=opt-cieid] a.sp-cie-btn').click();
      await page.locator('input[name=username]').waitFor();
      await visit(page, `cieid-server-${lang}`, csp, { foreign: true });
      await page.locator('input[name=username]').fill(MARIO.cf);
      await page.locator('input[name=password]').fill(SPID_PASSWORD);
      await page.locator('select[name=level]').selectOption('3');
      await page.locator('button[value=login]').click();
      await followSAML(page, csp);
      const c = await claims(page);
      await visit(page, `rp-cieid-${lang}`);
      assert.equal(c.auth_method, 'cie');
      assert.equal(c.cie_channel, 'cieid');
      assert.equal(c.acr, L3);
      assert.equal(c.fiscal_number, MARIO.cf);
      await page.close();
    });

    test('eIDAS login of Anna Schmidt through the dev eIDAS node', async () => {
      const { page, csp } = await open(L2);
      await page.locator('section[aria-labelledby=opt-eidas] a.sp-eidas-btn').click();
      await page.locator('input[name=username]').waitFor();
      await visit(page, `eidas-node-${lang}`, csp, { foreign: true });
      await page.locator('select[name=country]').selectOption('DE');
      await page.locator('input[name=username]').fill('DE/IT/0123456789ABCDEF');
      await page.locator('input[name=password]').fill(SPID_PASSWORD);
      await page.locator('button[value=login]').click();
      await followSAML(page, csp);
      const c = await claims(page);
      await visit(page, `rp-eidas-${lang}`);
      assert.equal(c.auth_method, 'eidas');
      assert.equal(c.eidas_country, 'DE');
      assert.equal(c.acr, L2);
      assert.equal(c.fiscal_number, undefined);
      await page.close();
    });

    test('delegation: act for the person who delegated you', async () => {
      const { page, csp } = await open(L2);
      await spidLogin(page, csp, LAURA.cf, false);
      assert.ok(await page.locator('input[name=act_for]').count(),
        `the delegation question is shown to a delegate (at ${page.url()})`);
      await visit(page, `delegation-${lang}`, csp);
      await page.locator(`input[name=act_for][value="${GIUSEPPE.cf}"]`).check();
      await page.locator('form button[type=submit]').click();
      const c = await claims(page);
      assert.equal(c.fiscal_number, GIUSEPPE.cf);
      assert.equal(c.act?.fiscal_number, LAURA.cf);
      // The citizens' delegation pages ("Le mie deleghe"), reached with the session just made.
      await page.goto(`${broker.url}/deleghe/`);
      await visit(page, `deleghe-${lang}`, csp);
      assert.match(await page.locator('main').innerText(), new RegExp(GIUSEPPE.cf));
      await page.close();
    });

    for (const [method, cert, cf] of [['cie', 'mario-rossi-cie', MARIO.cf], ['cns', 'giuseppe-verdi-cns', GIUSEPPE.cf]]) {
      test(`${method.toUpperCase()} login with the client certificate chosen by policy`, async (t) => {
        if (whyNoCertificates()) {
          skipOrFail(t, whyNoCertificates());
          return;
        }
        const b = await launch({ lang, cert, certOrigin: broker.mtls });
        try {
          const page = await b.context.newPage();
          const csp = watch(page);
          await page.goto(`${rp.url}/start?` + new URLSearchParams({ acr_values: L3, prompt: 'login' }));
          await visit(page, `chooser-${method}-${lang}`, csp);
          await page.locator(`.sp-choice a[href$="/${method}"]`).click();
          const c = await claims(page);
          await visit(page, `rp-${method}-${lang}`);
          assert.equal(c.auth_method, method);
          assert.equal(c.acr, L3);
          assert.equal(c.fiscal_number, cf);
        } finally {
          await b.close();
        }
      });
    }

    test('without JavaScript: PIN and SPID logins still complete', async () => {
      const b = await launch({ lang, javaScriptEnabled: false });
      try {
        const page = await b.context.newPage();
        await page.goto(`${rp.url}/start?` + new URLSearchParams({ acr_values: L2, prompt: 'login' }));
        await page.locator('.sp-choice a[href$="/pin"]').click();
        await page.locator('#f-fiscal_code').fill(GIOVANNA.cf);
        await page.locator('#f-pin').fill(GIOVANNA.pin);
        await page.locator('form.sp-form button[type=submit]').click();
        assert.equal((await claims(page)).fiscal_number, GIOVANNA.cf);
        await page.goto(`${rp.url}/start?` + new URLSearchParams({ acr_values: L2, prompt: 'login' }));
        await page.locator('[aria-labelledby="opt-spid"] .sp-idps summary').click();
        await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').first().click();
        await page.locator('input[name=username]').fill(MARIO.cf);
        await page.locator('input[name=password]').fill(SPID_PASSWORD);
        await page.locator('button[value=login]').click();
        await followSAML(page);
        assert.equal((await claims(page)).auth_method, 'spid');
      } finally {
        await b.close();
      }
    });
    test('every PIN service page', async () => {
      const page = await browser.context.newPage();
      const csp = watch(page);
      for (const p of ['', 'request', 'activate', 'first-access', 'lost', 'revoke', 'convert', 'phone']) {
        await page.goto(`${broker.url}/pin/${p}`);
        await visit(page, `pin-${p || 'index'}-${lang}`, csp);
      }
      // A refused form: the error is announced and tied to the fields.
      await page.goto(`${broker.url}/pin/activate`);
      await page.locator('#f-fiscal_code').fill('NOTAFISCALCODE00');
      await page.locator('form.sp-form button[type=submit]').click();
      await page.locator('#form-error').waitFor();
      await visit(page, `pin-activate-error-${lang}`, csp);
      await page.close();
    });

    test('SPID below the level asked: the error page says what to do', async () => {
      const { page, csp } = await open(L2);
      for (let i = 0; i < 50 && !(await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').count()); i++) {
        await page.waitForTimeout(300);
        await page.reload();
      }
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps summary').click();
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').first().click();
      await page.locator('input[name=username]').fill(MARIO.cf);
      await page.locator('input[name=password]').fill(SPID_PASSWORD);
      await page.locator('select[name=level]').selectOption('1');
      await page.locator('button[value=login]').click();
      await followSAML(page, csp);
      await page.locator('.sp-ref').waitFor();
      await visit(page, `error-spid-level-${lang}`, csp);
      // The way back gives the relying party an OAuth error.
      await page.locator('a[href^="http://127.0.0.1:9000/callback"]').click();
      await page.locator('#error').waitFor();
      assert.match(await page.locator('#error').textContent(), /access_denied|unmet_authentication_requirements/);
      await page.close();
    });

    test('SPID cancelled at the IdP: a page of its own, then back to the service with access_denied', async () => {
      const { page, csp } = await open(L2);
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps summary').click();
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').first().click();
      await page.locator('button[value=cancel]').click();
      await followSAML(page, csp);
      await page.locator('.alert-danger').waitFor();
      await visit(page, `error-spid-cancelled-${lang}`, csp);
      assert.match(await page.locator('h1').textContent(), lang === 'it' ? /Accesso annullato/ : /Sign-in cancelled/);
      await page.locator('a[href^="http://127.0.0.1:9000/callback"]').click();
      await page.waitForURL(/127\.0\.0\.1:9000\/callback/);
      assert.equal(await page.locator('#error').textContent(), 'access_denied');
      await page.close();
    });

    test('revoked CNS certificate: the reason and what to do', async (t) => {
      if (whyNoCertificates()) {
        skipOrFail(t, whyNoCertificates());
        return;
      }
      const b = await launch({ lang, cert: 'revoked-crl', certOrigin: broker.mtls });
      try {
        const page = await b.context.newPage();
        const csp = watch(page);
        await page.goto(`${rp.url}/start?` + new URLSearchParams({ acr_values: L3, prompt: 'login' }));
        await page.locator('.sp-choice a[href$="/cns"]').click();
        await page.locator('.sp-ref').waitFor();
        assert.match(await page.locator('.alert-danger').textContent(), lang === 'it' ? /revocato/ : /revoked/);
        await visit(page, `error-cert-revoked-${lang}`, csp);
      } finally {
        await b.close();
      }
    });
  });
}
