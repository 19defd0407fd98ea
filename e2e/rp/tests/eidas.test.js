// eIDAS through the dev eIDAS node, driven by openid-client: the eidas_country login hint
// (the node's form preselects the country; a value the node does not offer is invalid_request
// at the redirect URI) and single logout towards the node on end_session.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as oidc from 'openid-client';

import { startBroker } from '../../lib/broker.js';
import { UserAgent, expectCallback } from '../lib/headless.js';

const RP_ORIGIN = 'http://127.0.0.1:9000';
const REDIRECT_URI = RP_ORIGIN + '/callback';
const L2 = 'https://www.spid.gov.it/SpidL2';

let broker;
let rp;

before(async () => {
  broker = await startBroker();
  rp = await oidc.discovery(new URL(broker.url), 'demo-rp', { token_endpoint_auth_method: 'client_secret_basic' },
    oidc.ClientSecretBasic('demo-secret'), { execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks] });
});

after(async () => {
  await broker?.stop();
});

/** start sends the user agent to /authorize for eIDAS with extra parameters. */
async function start(ua, extra) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI, scope: 'openid profile', state, nonce, idp: 'eidas', acr_values: L2,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  return { got: await ua.walk(url), verifier, state, nonce };
}

test('eidas_country=ES: the node preselects Spain, and the login of a Spanish eID goes through', async () => {
  const ua = new UserAgent({ stopAt: RP_ORIGIN });
  const { got, verifier, state, nonce } = await start(ua, { eidas_country: 'ES' });
  assert.match(got.body, /<option value="ES" selected>/, 'ES preselected on the node\'s form');
  assert.doesNotMatch(got.body, /<option value="DE" selected>/);
  let page = await ua.submit(got, { country: 'ES', username: 'ES/IT/X1234567T', password: 'test-password', level: '2', action: 'login' });
  page = await ua.submit(page, {});
  const tokens = await oidc.authorizationCodeGrant(rp, expectCallback(ua, page), {
    pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
  });
  assert.equal(tokens.claims().auth_method, 'eidas');
  assert.equal(tokens.claims().eidas_country, 'ES');
});

test('an eidas_country the node does not offer, or not an upper-case ISO 3166-1 code, is invalid_request', async () => {
  for (const bad of ['FR', 'de', 'DEU', 'IT']) {
    const ua = new UserAgent({ stopAt: RP_ORIGIN });
    const { got } = await start(ua, { eidas_country: bad });
    const cb = expectCallback(ua, got);
    assert.equal(cb.searchParams.get('error'), 'invalid_request', bad);
    assert.match(cb.searchParams.get('error_description'), /^eidas_country: /, bad);
    assert.equal(cb.searchParams.get('code'), null);
  }
});

test('end_session of an eIDAS session goes through the node\'s single logout and ends the session', async () => {
  const ua = new UserAgent({ stopAt: RP_ORIGIN });
  const { got, verifier, state, nonce } = await start(ua, {});
  let page = await ua.submit(got, { username: 'DE/IT/0123456789ABCDEF', password: 'test-password', level: '2', action: 'login' });
  page = await ua.submit(page, {});
  const tokens = await oidc.authorizationCodeGrant(rp, expectCallback(ua, page), {
    pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
  });
  ua.trail.length = 0;
  const out = await ua.walk(oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token }).href);
  assert.equal(out.url.pathname, '/logged-out', ua.trail.join(' '));
  assert.ok(ua.trail.some((s) => s.endsWith('/dev/eidas/slo')), `the node's SLO: ${ua.trail.join(' ')}`);
  assert.ok(ua.trail.some((s) => s.endsWith('/eidas/slo') && !s.includes('/dev/')), `back at /eidas/slo: ${ua.trail.join(' ')}`);
  // The broker session is gone: a silent login is refused.
  const silent = await start(ua, { prompt: 'none' });
  assert.equal(expectCallback(ua, silent.got).searchParams.get('error'), 'login_required');
});
