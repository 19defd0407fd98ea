// OpenID Connect Back-Channel Logout 1.0 against sportello dev, checked with libraries we did
// not build on: openid-client logs demo-rp in (headless PIN login, code + PKCE S256, the ID
// token validated) and builds the RP-initiated logout; the logout token that reaches demo-rp's
// backchannel_logout_uri — the dev receiver at /dev/rp/backchannel-logout, which lists what it
// got — is verified with panva's jose (openid-client's own dependency) against the issuer's
// JWKS: typ logout+jwt, iss, aud, sub and sid of the ID token, the back-channel logout event,
// no nonce (§2.4).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import { startBroker } from '../../lib/broker.js';
import { UserAgent, expectCallback } from '../lib/headless.js';

const RP_ORIGIN = 'http://127.0.0.1:9000';
const REDIRECT_URI = RP_ORIGIN + '/callback';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const execute = [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks];

let broker;
let config;

before(async () => {
  broker = await startBroker();
  config = await oidc.discovery(new URL(broker.url), 'demo-rp', { token_endpoint_auth_method: 'client_secret_basic' },
    oidc.ClientSecretBasic('demo-secret'), { execute });
});

after(async () => {
  await broker?.stop();
});

/** login logs Giovanna Ferrari in for demo-rp and returns the headless browser (its SSO cookie) and tokens. */
async function login() {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: 'openid fiscal_number', state, nonce, idp: 'pin',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const ua = new UserAgent({ stopAt: RP_ORIGIN });
  const page = await ua.walk(url);
  const callback = expectCallback(ua, await ua.submit(page, { fiscal_code: 'FRRGNN55T50Z600A', pin: 'A1B2C3D4' }));
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
  });
  return { ua, tokens };
}

/** received polls the dev receiver until it lists a logout token for sid. */
async function received(sid) {
  for (let i = 0; i < 300; i++) {
    const res = await fetch(broker.url + '/dev/rp/backchannel-logout');
    assert.equal(res.status, 200);
    const list = await res.json();
    const hit = list.find((e) => e.claims?.sid === sid);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no logout token for sid ${sid} at the dev receiver`);
}

test('discovery advertises back-channel logout with sid', () => {
  const md = config.serverMetadata();
  assert.equal(md.backchannel_logout_supported, true);
  assert.equal(md.backchannel_logout_session_supported, true);
});

test('end_session sends demo-rp a logout token that verifies with the published JWKS', async () => {
  const { ua, tokens } = await login();
  const id = tokens.claims();
  assert.ok(id.sid, 'the ID token carries sid');
  const logout = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token });
  const done = await ua.walk(logout);
  assert.ok(!(done instanceof URL) && done.status === 200, `the logout ends on the issuer's page (${done.status})`);

  const hit = await received(id.sid);
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(hit.logout_token, jwks, {
    issuer: broker.url, audience: 'demo-rp', typ: 'logout+jwt', algorithms: ['ES256', 'RS256'],
  });
  assert.equal(protectedHeader.typ, 'logout+jwt');
  assert.equal(payload.sub, id.sub);
  assert.equal(payload.sid, id.sid);
  assert.deepEqual(payload.events, { [EVENT]: {} });
  assert.equal(payload.nonce, undefined, 'a logout token never carries a nonce');
  assert.ok(typeof payload.jti === 'string' && payload.jti.length > 0);
  assert.ok(payload.exp > payload.iat && payload.exp - payload.iat <= 300, 'short-lived');

  // The session is over: a prompt=none request gets login_required at the redirect URI.
  const again = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', prompt: 'none',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  const cb = expectCallback(ua, await ua.walk(again));
  assert.equal(cb.searchParams.get('error'), 'login_required');
});

test('a logout token with a tampered signature does not verify', async () => {
  const { ua, tokens } = await login();
  await ua.walk(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token }));
  const hit = await received(tokens.claims().sid);
  const [h, p] = hit.logout_token.split('.');
  const forged = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
  await assert.rejects(jwtVerify(forged, jwks, { issuer: broker.url, audience: 'demo-rp', typ: 'logout+jwt' }));
});
