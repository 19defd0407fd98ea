'use strict';
// The security team's console at /console/ in a real browser, in Italian and English: the dev
// operator Elena Conti signs in through the broker itself at SPID level 3 (the dev IdP's form),
// sees a dev IdP's state, switches it off with a reason on the confirmation page, a citizen's
// login through that IdP is refused, she switches it back on, and the audit page shows both
// changes with the chain verified; a person without the entitlement is refused; a form without
// the CSRF token is refused. axe-core and a screenshot on every console page.
//
// A dev IdP's entityID is under its instance's own --http address, so a second dev instance on
// the same Redis has IdPs of its own, never the first one's: the IdP switch is checked on the
// instance whose console made it, and a last part runs two dev brokers on one redis-server
// (started here) to switch the SPID provider off on the first one's console and see a
// citizen's SPID login refused on the second, both replicas on the replicas page.
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const { startBroker, freePort } = require('../lib/broker');
const { tempDir, onExit } = require('../lib/scratch');
const { startRP } = require('../lib/rp');
const { launch } = require('../lib/browser');
const { visit, watch, followSAML } = require('../lib/checks');

const ELENA = 'CNTLNE75E52L736Y';
const MARIO = 'RSSMRA80A01H501U';
const PAOLO = 'FRNPLA78H14F839N';
const L2 = 'https://www.spid.gov.it/SpidL2';

let rp;
before(async () => { rp = await startRP(); });
after(async () => { await rp.close(); });

for (const lang of ['it', 'en']) {
  const it = (itText, enText) => (lang === 'it' ? itText : enText);
  describe(`console in ${lang === 'it' ? 'Italian' : 'English'}`, () => {
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

    /** signIn goes from a console page through the chooser and the first dev SPID IdP at L3. */
    async function signIn(page, csp, cf) {
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').first().waitFor({ state: 'attached' });
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps summary').click();
      await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').first().click();
      await page.locator('input[name=username]').waitFor();
      await page.locator('input[name=username]').fill(cf);
      await page.locator('input[name=password]').fill('test-password');
      await page.locator('button[value=login]').click();
      await followSAML(page, csp);
    }

    /** chooserReady reloads until the dev IdPs' metadata is loaded (the chooser lists them). */
    async function chooserReady(page) {
      for (let i = 0; i < 50 && !(await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').count()); i++) {
        await page.waitForTimeout(300);
        await page.reload();
      }
    }

    let page;
    let csp;
    test('the operator signs in at SPID level 3 through the broker', async () => {
      page = await browser.context.newPage();
      csp = watch(page);
      await page.goto(`${broker.url}/console/providers`);
      assert.match(page.url(), /\/authorize\?|\/login\//, 'a console page without a session goes to the sign-in');
      await chooserReady(page);
      await signIn(page, csp, ELENA);
      await page.waitForURL(`${broker.url}/console/providers`);
      assert.match(await page.locator('.sp-operator').textContent(), new RegExp(ELENA));
      await visit(page, `console-providers-${lang}`, csp);
    });

    test('every console page passes axe and has its screenshot', async () => {
      for (const name of ['overview', 'clients', 'keys', 'replicas', 'audit', 'actions']) {
        await page.goto(`${broker.url}/console/${name === 'overview' ? '' : name}`);
        assert.equal(await page.locator('html').getAttribute('lang'), lang);
        await visit(page, `console-${name}-${lang}`, csp);
      }
      // The language switch of the citizens' pages, on the console too.
      await page.locator('.sp-lang a').click();
      assert.equal(await page.locator('html').getAttribute('lang'), lang === 'it' ? 'en' : 'it');
      await page.locator('.sp-lang a').click();
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
    });

    test('a dev IdP switched off refuses a citizen\'s login, switched on again; the audit shows both', async () => {
      await page.goto(`${broker.url}/console/providers`);
      const idp = page.locator('section[data-kind=idp]').first();
      const entityID = await idp.getAttribute('data-id');
      assert.equal(await idp.locator('.sp-state').getAttribute('data-state'), 'on');
      await idp.locator('button[type=submit]').click();
      await page.locator('#confirm-form').waitFor();
      await visit(page, `console-confirm-${lang}`, csp);
      await page.locator('#reason').fill('e2e: IdP compromesso');
      await page.locator('#confirm-form button[type=submit]').click();
      await page.locator('#change-done').waitFor();
      await visit(page, `console-result-${lang}`, csp);
      await page.goto(`${broker.url}/console/providers`);
      const off = page.locator(`section[data-kind=idp][data-id="${entityID}"]`);
      assert.equal(await off.locator('.sp-state').getAttribute('data-state'), 'off');

      // A citizen's login through that IdP (its own browser: no console session).
      const citizen = await launch({ lang });
      try {
        const cp = await citizen.context.newPage();
        const ccsp = watch(cp);
        await cp.goto(`${rp.url}/start?` + new URLSearchParams({ acr_values: L2, idp: entityID, prompt: 'login' }));
        await cp.waitForLoadState('load');
        assert.equal(await cp.locator('input[name=username]').count(), 0, 'the switched-off IdP was offered its login form');
        assert.match(await cp.locator('main').textContent(), new RegExp(it('sospeso temporaneamente per motivi di sicurezza', 'suspended for security reasons')));
        await visit(cp, `console-citizen-refused-${lang}`, ccsp);
        await cp.close();
      } finally {
        await citizen.close();
      }

      await off.locator('button[type=submit]').click();
      await page.locator('#confirm-form').waitFor();
      assert.equal(await page.locator('#reason').count(), 0, 'switching on asks no reason');
      await page.locator('#confirm-form button[type=submit]').click();
      await page.locator('#change-done').waitFor();

      await page.goto(`${broker.url}/console/audit?type=console.switch`);
      await visit(page, `console-audit-search-${lang}`, csp);
      assert.equal(await page.locator('#chain').getAttribute('data-verified'), 'true');
      const rows = await page.locator('tr.audit-record[data-type="console.switch"]').allTextContents();
      assert.equal(rows.length, 2, 'the audit page shows both changes');
      assert.ok(rows.every((r) => r.includes(ELENA) && r.includes(entityID)), 'each change names the operator and the IdP');
      assert.ok(rows.some((r) => r.includes('enabled=false')) && rows.some((r) => r.includes('enabled=true')));
    });

    test('a form without the CSRF token is refused and changes nothing', async () => {
      await page.goto(`${broker.url}/console/clients`);
      const [resp] = await Promise.all([
        page.waitForNavigation(),
        page.evaluate(() => {
          const f = document.createElement('form');
          f.method = 'post';
          f.action = '/console/apply';
          for (const [k, v] of Object.entries({ action: 'switch', kind: 'client', id: 'demo-rp', state: 'off', reason: 'forged' })) {
            const i = document.createElement('input');
            i.type = 'hidden'; i.name = k; i.value = v;
            f.appendChild(i);
          }
          document.body.appendChild(f);
          f.submit();
        }),
      ]);
      assert.equal(resp.status(), 403);
      assert.equal(await page.locator('#console-message').getAttribute('data-key'), 'csrf');
      await visit(page, `console-csrf-${lang}`, csp);
      await page.goto(`${broker.url}/console/clients`);
      assert.equal(await page.locator('section[data-id="demo-rp"] .sp-state').getAttribute('data-state'), 'on');
    });

    test('an unknown console address is the console\'s 404 page', async () => {
      const resp = await page.goto(`${broker.url}/console/no-such-page`);
      assert.equal(resp.status(), 404);
      assert.equal(await page.locator('#console-message').getAttribute('data-key'), 'not_found');
      await visit(page, `console-not-found-${lang}`, csp);
    });

    test('a sign-in callback this browser did not start is refused', async () => {
      // RFC 6749 §10.12: the state matches no login cookie, so no session is made of the code.
      const resp = await page.goto(`${broker.url}/console/callback?` + new URLSearchParams({ state: 'forged', code: 'forged' }));
      assert.equal(resp.status(), 400);
      assert.equal(await page.locator('#console-message').getAttribute('data-key'), 'login_expired');
      await visit(page, `console-login-expired-${lang}`, csp);
      await page.goto(`${broker.url}/console/`);
    });

    test('the operator signs out', async () => {
      await page.locator('.sp-console-bar button[type=submit]').click();
      await page.locator('#console-message[data-key=logged_out]').waitFor();
      await visit(page, `console-logged-out-${lang}`, csp);
      await page.goto(`${broker.url}/console/`);
      assert.doesNotMatch(page.url(), /\/console\/$/, 'the console is still open after the sign-out');
      await page.close();
    });

    test('the read-only operator sees every page and no button', async () => {
      const p = await browser.context.newPage();
      const pcsp = watch(p);
      await p.goto(`${broker.url}/console/login?next=/console/providers`);
      await chooserReady(p);
      await signIn(p, pcsp, PAOLO);
      await p.waitForURL(`${broker.url}/console/providers`);
      assert.match(await p.locator('.sp-role').textContent(), /console:read/);
      assert.equal(await p.locator('form[action="/console/confirm"]').count(), 0, 'a read-only operator sees change buttons');
      await visit(p, `console-read-only-${lang}`, pcsp);
      // A change posted anyway, with the session's own CSRF token: refused, nothing changed.
      const [resp] = await Promise.all([
        p.waitForNavigation(),
        p.evaluate(() => {
          const f = document.createElement('form');
          f.method = 'post';
          f.action = '/console/confirm';
          const csrf = document.querySelector('form[action="/console/logout"] input[name=csrf]').value;
          for (const [k, v] of Object.entries({ csrf, action: 'switch', kind: 'provider', id: 'spid', state: 'off' })) {
            const i = document.createElement('input');
            i.type = 'hidden'; i.name = k; i.value = v;
            f.appendChild(i);
          }
          document.body.appendChild(f);
          f.submit();
        }),
      ]);
      assert.equal(resp.status(), 403);
      assert.equal(await p.locator('#console-message').getAttribute('data-key'), 'read_only');
      await visit(p, `console-read-only-refused-${lang}`, pcsp);
      await p.goto(`${broker.url}/console/providers`);
      assert.equal(await p.locator('section[data-kind=provider][data-id=spid] .sp-state').getAttribute('data-state'), 'on');
      await p.locator('.sp-console-bar button[type=submit]').click();
      await p.locator('#console-message[data-key=logged_out]').waitFor();
      await p.close();
    });

    test('a person without the entitlement is refused', async () => {
      const p = await browser.context.newPage();
      const pcsp = watch(p);
      await p.goto(`${broker.url}/console/`);
      await chooserReady(p);
      await signIn(p, pcsp, MARIO);
      await p.locator('#console-message[data-key=not_operator]').waitFor();
      assert.match(await p.locator('h1').textContent(), new RegExp(it('Non autorizzato', 'Not authorised')));
      await visit(p, `console-refused-${lang}`, pcsp);
      await p.close();
    });
  });
}

/** startRedis runs redis-server on a free loopback port, persistence off, in the scratch folder. */
async function startRedis() {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', tempDir('redis')], { stdio: 'ignore' });
  const forget = onExit(() => proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL'));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}/0`,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', r)));
      forget();
    },
  };
}

function haveRedis() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('console across two replicas on one Redis', () => {
  let redis;
  let a;
  let b;
  let browser;
  before(async () => {
    if (!haveRedis()) return;
    redis = await startRedis();
    a = await startBroker(['--redis', redis.url]);
    // The second replica: the first one's keys and secrets, its own audit trail (standard error).
    b = await startBroker(['--redis', redis.url, '--data', a.data, '--audit-stderr']);
    browser = await launch({ lang: 'it' });
  });
  after(async () => {
    await browser?.close();
    await b?.stop();
    await a?.stop();
    await redis?.stop();
  });

  test('the SPID provider switched off on one replica\'s console refuses a citizen on the other', async (t) => {
    if (!haveRedis()) {
      if (process.env.CI) assert.fail('redis-server is missing (CI runs every flow)');
      return t.skip('redis-server is missing');
    }
    const page = await browser.context.newPage();
    const csp = watch(page);
    await page.goto(`${a.url}/console/providers`);
    for (let i = 0; i < 50 && !(await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').count()); i++) {
      await page.waitForTimeout(300);
      await page.reload();
    }
    await page.locator('[aria-labelledby="opt-spid"] .sp-idps summary').click();
    await page.locator('[aria-labelledby="opt-spid"] .sp-idps a').first().click();
    await page.locator('input[name=username]').fill(ELENA);
    await page.locator('input[name=password]').fill('test-password');
    await page.locator('button[value=login]').click();
    await followSAML(page, csp);
    await page.waitForURL(`${a.url}/console/providers`);

    await page.goto(`${a.url}/console/replicas`);
    for (let i = 0; i < 20 && (await page.locator('#replicas tbody tr code').count()) < 2; i++) {
      await page.waitForTimeout(500);
      await page.reload();
    }
    assert.equal(await page.locator('#replicas tbody tr code').count(), 2, 'both replicas are listed');
    await visit(page, 'console-replicas-two-it', csp);

    await page.goto(`${a.url}/console/providers`);
    const spid = page.locator('section[data-kind=provider][data-id=spid]');
    await spid.locator('button[type=submit]').click();
    await page.locator('#reason').fill('e2e: SPID sospeso su tutte le repliche');
    await page.locator('#confirm-form button[type=submit]').click();
    await page.locator('#change-done').waitFor();

    // A citizen's SPID login on the other replica, through its first dev IdP.
    rp.setIssuer(b.url);
    const cp = await browser.context.newPage();
    let refused = false;
    for (let i = 0; i < 20 && !refused; i++) { // the other replica reloads the switches every second
      await cp.goto(`${rp.url}/start?` + new URLSearchParams({ acr_values: L2, idp: `${b.url}/dev/spid/demo`, prompt: 'login' }));
      await cp.waitForLoadState('load');
      refused = (await cp.locator('input[name=username]').count()) === 0 &&
        /sospeso temporaneamente per motivi di sicurezza/.test(await cp.locator('main').textContent());
      if (!refused) await cp.waitForTimeout(500);
    }
    assert.ok(refused, 'the other replica still offered a SPID login');
    await cp.close();

    await page.goto(`${a.url}/console/providers`);
    await spid.locator('button[type=submit]').click();
    await page.locator('#confirm-form button[type=submit]').click();
    await page.locator('#change-done').waitFor();
    await page.goto(`${a.url}/console/audit?type=console.switch`);
    const rows = await page.locator('tr.audit-record[data-type="console.switch"]').allTextContents();
    assert.equal(rows.length, 2, 'the audit page shows both changes');
    await page.close();
  });
});
