// DPoP (RFC 9449) against sportello dev, driven by openid-client's own DPoP support
// (getDPoPHandle: proofs, the server nonce and its use_dpop_nonce retry, ath at userinfo):
// demo-dpop, a public client with dpop_bound_access_tokens, logs Giovanna Ferrari in with her
// PIN (headlessly, as rp.test.js does), gets a DPoP-bound token, calls userinfo with it and
// refreshes; the broker refuses the same token sent as Bearer, a refresh with another key and
// a code exchange without a proof.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';

import { startBroker } from '../../lib/broker.js';
import { UserAgent, expectCallback } from '../lib/headless.js';

const RP_ORIGIN = 'http://127.0.0.1:9000';
const REDIRECT_URI = RP_ORIGIN + '/callback';
const SCOPE = 'openid profile fiscal_number offline_access';
const execute = [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks];

let broker;
let config;
let service;

before(async () => {
  broker = await startBroker();
  const issuer = new URL(broker.url);
  config = await oidc.discovery(issuer, 'demo-dpop', { token_endpoint_auth_method: 'none' }, oidc.None(), { execute });
  service = await oidc.discovery(issuer, 'demo-service', { token_endpoint_auth_method: 'client_secret_basic' },
    oidc.ClientSecretBasic('demo-service-secret'), { execute });
});

after(async () => {
  await broker?.stop();
});

/** authorize runs the front channel (code + PKCE S256, PIN login) and returns the callback. */
async function authorize() {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: SCOPE, state, nonce, idp: 'pin',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const ua = new UserAgent({ stopAt: RP_ORIGIN });
  const got = await ua.submit(await ua.walk(url), { fiscal_code: 'FRRGNN55T50Z600A', pin: 'A1B2C3D4' });
  return { callback: expectCallback(ua, got), checks: { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true } };
}

const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

/** refusal describes what openid-client refused. */
const refusal = (err) => `${err.name}: ${err.message}${err.code ? ` [${err.code}]` : ''}` +
  `${err.cause ? ` (cause: ${JSON.stringify(err.cause?.body ?? err.cause?.message ?? err.cause)})` : ''}`;

describe('demo-dpop (public, DPoP-bound): PIN login of Giovanna Ferrari', () => {
  let key;
  let DPoP;
  let tokens;

  before(async () => {
    key = await oidc.randomDPoPKeyPair('ES256');
    DPoP = oidc.getDPoPHandle(config, key);
  });

  test('discovery advertises the DPoP algorithms', () => {
    const algs = config.serverMetadata().dpop_signing_alg_values_supported;
    assert.deepEqual(algs, ['ES256', 'PS256', 'EdDSA']);
  });

  test('a code exchange without a proof is refused: the client is dpop_bound_access_tokens', async () => {
    const a = await authorize();
    await assert.rejects(oidc.authorizationCodeGrant(config, a.callback, a.checks), (err) => {
      assert.equal(err.error, 'invalid_request', refusal(err));
      return true;
    });
    // The refusal left the code to its owner: the same code with a proof is redeemed.
    tokens = await oidc.authorizationCodeGrant(config, a.callback, a.checks, undefined, { DPoP });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
  });

  test('the access token is bound to the key: cnf.jkt in the token and in introspection', async () => {
    const jkt = payload(tokens.access_token).cnf?.jkt;
    assert.match(jkt ?? '', /^[A-Za-z0-9_-]{43}$/);
    const intro = await oidc.tokenIntrospection(service, tokens.access_token);
    assert.equal(intro.active, true);
    assert.equal(intro.cnf?.jkt, jkt);
    assert.equal(intro.token_type, 'DPoP');
    assert.equal(tokens.claims().fiscal_number, 'FRRGNN55T50Z600A');
  });

  test('userinfo with the DPoP-bound token and a proof', async () => {
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub, { DPoP });
    assert.equal(info.fiscal_number, 'FRRGNN55T50Z600A');
  });

  test('the bound token sent as Bearer is refused at userinfo', async () => {
    await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub), (err) => {
      assert.equal(err.status, 401, refusal(err));
      assert.match(err.response?.headers.get('www-authenticate') ?? '', /^DPoP .*error="invalid_token"/, refusal(err));
      return true;
    });
  });

  test('a refresh with another key is refused, with the key it rotates and stays bound', async () => {
    const other = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: other }), (err) => {
      assert.equal(err.error, 'invalid_grant', refusal(err));
      return true;
    });
    const next = await oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
    assert.equal(next.token_type.toLowerCase(), 'dpop');
    assert.ok(next.refresh_token && next.refresh_token !== tokens.refresh_token, 'rotated');
    assert.equal(payload(next.access_token).cnf?.jkt, payload(tokens.access_token).cnf?.jkt);
    const info = await oidc.fetchUserInfo(config, next.access_token, tokens.claims().sub, { DPoP });
    assert.equal(info.fiscal_number, 'FRRGNN55T50Z600A');
  });
});
