'use strict';
// The pages' rules as a citizen meets them, in Italian and English:
// the language of a ui_locales login, the 404 page, per-field form errors and gg/mm/aaaa
// dates, the cancelled-SPID page, no dead ends (sign-in links, the way back to the chooser,
// Annulla, the lost-PIN link), the certificate refusals on the issuer origin with their
// fonts every time, and the SPID/CIE entry buttons. Every page is checked by axe-core.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startBroker } = require('../lib/broker');
const { startRP } = require('../lib/rp');
const { launch, whyNoCertificates } = require('../lib/browser');
const { visit, watch, followSAML } = require('../lib/checks');

const L2 = 'https://www.spid.gov.it/SpidL2';
const L3 = 'https://www.spid.gov.it/SpidL3';
const GIOVANNA = { cf: 'FRRGNN55T50Z600A', mobile: '+390000000', email: 'giovanna.ferrari@example.org' };
const SARA = { cf: 'BRNSRA75E52Z114J', card: '80380000000000000001', expiry: '31/12/2030' };
const LAURA = { cf: 'BNCLRA85M41F205C' };
const GIUSEPPE = { cf: 'VRDGPP40C15L219U' };

function skipOrFail(t, why) {
  if (process.env.CI) assert.fail(`${why} (CI runs every flow)`);
  t.skip(why);
}

let rp;
before(async () => { rp = await startRP(); });
after(async () => { await rp.close(); });

for (const lang of ['it', 'en']) {
  const other = lang === 'it' ? 'en' : 'it';
  const it = (itText, enText) => (lang === 'it' ? itText : enText);
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

    async function open(params) {
      const page = await browser.context.newPage();
      const csp = watch(page);
      await page.goto(`${rp.url}/start?` + new URLSearchParams({ acr_values: L2, prompt: 'login', ...params }));
      return { page, csp };
    }
    async function waitForIdPs(page) {
      for (let i = 0; i < 50 && !(await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').count()); i++) {
        await page.waitForTimeout(300);
        await page.reload();
      }
    }
    async function langCookie() {
      return (await browser.context.cookies(broker.url)).find((c) => c.name === 'sportello_lang');
    }

    test('ui_locales sets the language of that login only', async () => {
      const { page, csp } = await open({ ui_locales: other });
      await visit(page, `chooser-ui-locales-${lang}`, csp);
      assert.equal(await page.locator('html').getAttribute('lang'), other);
      // The PIN form of the same login speaks its language too.
      await page.locator('.sp-choice a[href$="/pin"]').click();
      await page.locator('#f-fiscal_code').waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), other);
      assert.equal(await langCookie(), undefined, 'ui_locales was remembered for later logins');
      await page.close();
      const next = await open({});
      assert.equal(await next.page.locator('html').getAttribute('lang'), lang, 'a later login kept the earlier ui_locales');
      await next.page.close();
    });

    test('an unknown address is a page of the layout', async () => {
      const page = await browser.context.newPage();
      const csp = watch(page);
      const resp = await page.goto(`${broker.url}/no-such-page`);
      assert.equal(resp.status(), 404);
      await visit(page, `not-found-${lang}`, csp);
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
      assert.match(await page.locator('h1').textContent(), lang === 'it' ? /Pagina non trovata/ : /Page not found/);
      await page.close();
    });

    test('each error at its field, required and optional marked, dates gg/mm/aaaa', async () => {
      const page = await browser.context.newPage();
      const csp = watch(page);
      await page.goto(`${broker.url}/pin/request`);
      assert.match(await page.locator('label[for=f-birthdate]').textContent(), it(/obbligatorio/, /required/));
      assert.match(await page.locator('label[for=f-pec]').textContent(), it(/facoltativo/, /optional/));
      assert.match(await page.locator('#f-birthdate-hint').textContent(), it(/gg\/mm\/aaaa/, /dd\/mm\/yyyy/));
      await page.locator('#f-fiscal_code').fill('RSSMRA80A01H501X');
      await page.locator('#f-given_name').fill('Mario');
      await page.locator('#f-birth_place').fill('Roma');
      await page.locator('#f-birthdate').fill('31/02/1980');
      await page.locator('#f-email').fill('mario.example.org');
      await page.locator('form.sp-form button[type=submit]').click();
      await page.locator('#form-error').waitFor();
      await visit(page, `pin-request-errors-${lang}`, csp);
      for (const name of ['fiscal_code', 'family_name', 'birthdate', 'email']) {
        const field = page.locator(`#f-${name}`);
        assert.equal(await field.getAttribute('aria-invalid'), 'true', `${name} is not marked invalid`);
        assert.match(await field.getAttribute('aria-describedby'), new RegExp(`f-${name}-error`));
        assert.ok((await page.locator(`#f-${name}-error`).textContent()).trim(), `${name} has no message of its own`);
        assert.equal(await page.locator(`#form-error a[href="#f-${name}"]`).count(), 1, `the summary does not link to ${name}`);
      }
      for (const name of ['given_name', 'birth_place', 'mobile', 'pec']) {
        assert.equal(await page.locator(`#f-${name}`).getAttribute('aria-invalid'), null, `${name} is fine but marked invalid`);
      }
      assert.equal(await page.locator('#f-given_name').inputValue(), 'Mario', 'what was typed is lost');
      assert.equal(await page.locator('#f-birthdate').inputValue(), '31/02/1980');

      // An activation with the health card's expiry written gg/mm/aaaa, then the way on.
      await page.goto(`${broker.url}/pin/activate`);
      await page.locator('#f-fiscal_code').fill(SARA.cf);
      await page.locator('#f-hc_number').fill(SARA.card);
      await page.locator('#f-hc_expiry').fill(SARA.expiry);
      await page.locator('form.sp-form button[type=submit]').click();
      await page.locator('#form-notice').waitFor();
      await visit(page, `pin-activated-${lang}`, csp);
      assert.equal(await page.locator('main a.btn-primary[href^="/accedi"]').count(), 1, 'no sign-in after the activation');
      await page.close();
    });

    test('SPID cancelled: what happened, try again, back to the service', async () => {
      const { page, csp } = await open({});
      await waitForIdPs(page);
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps summary').click();
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').first().click();
      await page.locator('button[value=cancel]').click();
      await followSAML(page, csp);
      await page.locator('.alert-danger').waitFor();
      await visit(page, `spid-cancelled-${lang}`, csp);
      assert.match(await page.locator('.alert-danger').textContent(), it(/Hai annullato/, /You cancelled/));
      assert.equal(await page.locator('a[href^="http://127.0.0.1:9000/callback?error=access_denied"]').count(), 1, 'no way back');
      await page.locator(`a[href^="${broker.url}/login/"]`).click();
      await page.locator('.sp-choice').first().waitFor();
      assert.ok(await page.locator('.sp-choice a[href$="/pin"]').count(), 'try again does not lead to the chooser');
      await page.close();
    });

    test('no dead ends', async () => {
      // The PIN form leads back to the chooser of its login.
      const { page, csp } = await open({});
      await page.locator('.sp-choice a[href$="/pin"]').click();
      await page.locator(`nav a[href^="${broker.url}/login/"]`).click();
      await page.locator('.sp-choice').first().waitFor();

      // The logout confirmation has Annulla, which keeps the session.
      await page.goto(`${broker.url}/end_session`);
      await page.locator('main a.btn-outline-primary').click();
      await page.locator('h1').waitFor();
      await visit(page, `logout-cancelled-${lang}`, csp);
      assert.match(await page.locator('h1').textContent(), it(/Uscita annullata/, /Sign-out cancelled/));

      // Le mie deleghe without a session offers the sign-in, which comes back to it.
      await page.goto(`${broker.url}/deleghe/`);
      await visit(page, `deleghe-signin-${lang}`, csp);
      await page.locator('main a[href^="/accedi"]').click();
      await waitForIdPs(page);
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps summary').click();
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').first().click();
      await page.locator('input[name=username]').fill(LAURA.cf);
      await page.locator('input[name=password]').fill('test-password');
      await page.locator('button[value=login]').click();
      await followSAML(page, csp);
      await page.waitForURL(/\/deleghe\/$/);
      assert.match(await page.locator('main').innerText(), new RegExp(GIUSEPPE.cf));
      await page.close();

      // The lost-PIN link carries an opaque code, never the fiscal code; once used it offers
      // no confirmation any more.
      const lost = await browser.context.newPage();
      const lcsp = watch(lost);
      await lost.goto(`${broker.url}/pin/lost`);
      await lost.locator('#f-fiscal_code').fill(GIOVANNA.cf);
      await lost.locator('#f-mobile').fill(GIOVANNA.mobile + GIOVANNA.cf.slice(13, 15));
      await lost.locator('#f-email').fill(GIOVANNA.email);
      await lost.locator('form.sp-form button[type=submit]').click();
      await lost.locator('#form-notice').waitFor();
      await lost.goto(`${broker.url}/dev/outbox`);
      await visit(lost, `outbox-${lang}`, lcsp);
      const text = await lost.locator('main').innerText();
      const link = text.match(/https?:\/\/\S+\/pin\/lost\/complete\?\S+/)?.[0];
      assert.ok(link, 'no recovery link in the outbox');
      assert.ok(!link.includes(GIOVANNA.cf), `the recovery link carries the fiscal code: ${link}`);
      await lost.goto(link);
      await lost.locator('form.sp-form button[type=submit]').click();
      await lost.locator('#form-notice').waitFor();
      await lost.goto(link);
      await visit(lost, `pin-recovery-spent-${lang}`, lcsp);
      assert.equal(await lost.locator('form.sp-form').count(), 0, 'a used recovery link still offers the confirmation');
      assert.equal(await lost.locator('main a.btn-primary[href="/pin/lost"]').count(), 1, 'no way to start again');
      await lost.close();
    });

    test('certificate refusals are shown on the issuer origin, with their fonts, 10 times out of 10', async (t) => {
      if (whyNoCertificates()) {
        skipOrFail(t, whyNoCertificates());
        return;
      }
      const b = await launch({ lang, cert: 'revoked-crl', certOrigin: broker.mtls });
      try {
        const page = await b.context.newPage();
        const csp = watch(page);
        for (let i = 0; i < 10; i++) {
          await page.goto(`${rp.url}/start?` + new URLSearchParams({ acr_values: L3, prompt: 'login' }));
          await page.locator('.sp-choice a[href$="/cns"]').click();
          await page.locator('.sp-ref').waitFor();
          assert.ok(page.url().startsWith(broker.url + '/login/error?ref='), `refusal ${i + 1} drawn at ${page.url()}`);
          await visit(page, `error-cert-issuer-origin-${lang}`, csp); // fails on missing fonts or stylesheets
        }
      } finally {
        await b.close();
      }
    });

    test('the SPID and CIE entries, the service named, favicon and wordmark', async () => {
      const { page, csp } = await open({});
      await waitForIdPs(page);
      await visit(page, `chooser-buttons-${lang}`, csp);
      const spid = page.locator('[aria-labelledby="opt-spid"] .sp-spid-btn');
      assert.equal(await spid.evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(0, 102, 204)');
      assert.equal(await spid.evaluate((e) => getComputedStyle(e).color), 'rgb(255, 255, 255)');
      assert.match(await spid.innerText(), it(/Entra con SPID/, /Sign in with SPID/));
      assert.match(await spid.locator('use').getAttribute('href'), /marks\.svg#sp-spid$/);
      // Two CIE entries: the card's certificate and CIE ID ("Entra con CIE"), each under its own heading.
      for (const id of ['cie', 'cieid']) {
        const cie = page.locator(`section[aria-labelledby=opt-${id}] .sp-cie-btn`);
        assert.match(await cie.innerText(), it(/Entra con CIE/, /Sign in with CIE/));
        assert.match(await cie.locator('use').getAttribute('href'), /marks\.svg#sp-cie$/);
      }
      assert.match(await page.locator('#opt-cieid').innerText(), /CIE ID/);
      const eidas = page.locator('.sp-eidas-btn');
      assert.match(await eidas.innerText(), /Login with eIDAS/);
      assert.equal(await eidas.getAttribute('lang'), 'en');
      assert.equal(await eidas.evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(0, 102, 204)');
      assert.match(await eidas.locator('use').getAttribute('href'), /marks\.svg#sp-eidas$/);
      assert.match(await page.locator('.sp-service').innerText(), it(/Stai accedendo a: Servizio demo/, /You are signing in to: Demo service/));
      assert.equal((await page.locator('.sp-wordmark').innerText()).trim(), 'INPS');
      for (const href of [await page.locator('link[rel=icon]').getAttribute('href'), '/favicon.ico',
        (await spid.locator('use').getAttribute('href')).split('#')[0]]) {
        const r = await page.request.get(new URL(href, broker.url).toString());
        assert.equal(r.status(), 200, href);
        assert.equal(r.headers()['content-type'], 'image/svg+xml', href);
      }
      await page.close();
    });
  });
}
