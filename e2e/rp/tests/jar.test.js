// JWT-secured authorization requests (RFC 9101) through openid-client: the dev client
// demo-jar (require_signed_request_object, private_key_jwt) signs its request objects and its
// client assertions with the dev-only key of testdata/dev/demo-jar.private.jwk.json; openid-client
// builds the request object itself (buildAuthorizationUrlWithJAR, alone and pushed with
// buildAuthorizationUrlWithPAR), the PIN login of Giovanna Ferrari is done headlessly as in
// rp.test.js, and openid-client validates the ID token. A request object signed by another key
// and a replayed one (the same jti) are refused.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';

import { startBroker } from '../../lib/broker.js';
import { UserAgent, expectCallback, root } from '../lib/headless.js';

const RP_ORIGIN = 'http://127.0.0.1:9000';
const REDIRECT_URI = RP_ORIGIN + '/callback';
const SCOPE = 'openid profile fiscal_number';
const PIN = { fiscal_code: 'FRRGNN55T50Z600A', pin: 'A1B2C3D4' };
const execute = [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks];

let broker;
let config;
let key; // demo-jar's key: { key: CryptoKey, kid }
let stranger; // a key demo-jar never registered

/** importKey makes a private JWK an openid-client signing key (CryptoKey and kid). */
async function importKey(jwk) {
  const { d, x, y, kty, crv } = jwk;
  const k = await crypto.subtle.importKey('jwk', { kty, crv, x, y, d }, { name: 'ECDSA', namedCurve: crv }, false, ['sign']);
  return { key: k, kid: jwk.kid };
}

before(async () => {
  broker = await startBroker();
  key = await importKey(JSON.parse(fs.readFileSync(path.join(root, 'testdata', 'dev', 'demo-jar.private.jwk.json'))));
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  stranger = { key: pair.privateKey, kid: key.kid }; // even the kid of the registered key
  config = await oidc.discovery(new URL(broker.url), 'demo-jar', { token_endpoint_auth_method: 'private_key_jwt' },
    oidc.PrivateKeyJwt(key), { execute });
});

after(async () => {
  await broker?.stop();
});

/** request is a fresh authorization request: its parameters and the values to check. */
async function request() {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const params = {
    redirect_uri: REDIRECT_URI, scope: SCOPE, state, nonce, idp: 'pin',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  };
  return { params, verifier, state, nonce };
}

/** loginAt walks url with a new user agent through the PIN login and returns where it ended. */
async function loginAt(url) {
  const ua = new UserAgent({ stopAt: RP_ORIGIN });
  let got = await ua.walk(url);
  if (!(got instanceof URL)) got = await ua.submit(got, PIN);
  return { ua, got };
}

/** redeem exchanges the code of callback with private_key_jwt; openid-client checks the ID token. */
async function redeem(callback, r) {
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: r.verifier, expectedNonce: r.nonce, expectedState: r.state, idTokenExpected: true,
  });
}

describe('JWT-secured authorization requests (RFC 9101) of demo-jar', () => {
  test('discovery advertises request objects and private_key_jwt', () => {
    const md = config.serverMetadata();
    assert.equal(md.request_parameter_supported, true);
    assert.ok(md.request_object_signing_alg_values_supported?.includes('ES256'), JSON.stringify(md.request_object_signing_alg_values_supported));
    assert.ok(md.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  });

  test('a request object built by openid-client: the login completes and the ID token validates', async () => {
    const r = await request();
    const url = await oidc.buildAuthorizationUrlWithJAR(config, r.params, key);
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request']);
    const { ua, got } = await loginAt(url);
    const tokens = await redeem(expectCallback(ua, got), r);
    const claims = tokens.claims();
    assert.deepEqual([].concat(claims.aud), ['demo-jar']);
    assert.equal(claims.nonce, r.nonce);
    assert.equal(claims.fiscal_number, 'FRRGNN55T50Z600A');
  });

  test('a request object pushed (JAR and PAR together): the login completes and the ID token validates', async () => {
    const r = await request();
    const { searchParams } = await oidc.buildAuthorizationUrlWithJAR(config, r.params, key);
    const url = await oidc.buildAuthorizationUrlWithPAR(config, searchParams);
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    const { ua, got } = await loginAt(url);
    const tokens = await redeem(expectCallback(ua, got), r);
    assert.equal(tokens.claims().nonce, r.nonce);
  });

  test('the authorization request outside a request object is refused', async () => {
    const r = await request();
    const got = await new UserAgent({ stopAt: RP_ORIGIN }).walk(oidc.buildAuthorizationUrl(config, r.params));
    const err = got instanceof URL ? got.searchParams.get('error') : got.status;
    assert.ok(err === 'invalid_request' || err === 400, `got ${got instanceof URL ? got : got.status}`);
  });

  test('a request object signed by another key is refused at /authorize, never redirected', async () => {
    const r = await request();
    const url = await oidc.buildAuthorizationUrlWithJAR(config, r.params, stranger);
    const got = await new UserAgent({ stopAt: RP_ORIGIN }).walk(url);
    assert.ok(!(got instanceof URL), 'a request object of another key reached the relying party');
    assert.equal(got.status, 400);
  });

  test('a request object signed by another key is refused at the push (invalid_request_object)', async () => {
    const r = await request();
    const { searchParams } = await oidc.buildAuthorizationUrlWithJAR(config, r.params, stranger);
    await assert.rejects(oidc.buildAuthorizationUrlWithPAR(config, searchParams), (err) => {
      assert.equal(err.error, 'invalid_request_object', `${err.code}: ${err.message}`);
      assert.equal(err.status, 400);
      return true;
    });
  });

  test('a replayed request object (the same jti) is refused at /authorize', async () => {
    const r = await request();
    const url = await oidc.buildAuthorizationUrlWithJAR(config, r.params, key);
    const first = await loginAt(url);
    await redeem(expectCallback(first.ua, first.got), r);
    const again = await new UserAgent({ stopAt: RP_ORIGIN }).walk(url);
    assert.ok(!(again instanceof URL), 'a replayed request object reached the relying party');
    assert.equal(again.status, 400);
  });

  test('a replayed request object (the same jti) is refused at the push', async () => {
    const r = await request();
    const { searchParams } = await oidc.buildAuthorizationUrlWithJAR(config, r.params, key);
    await oidc.buildAuthorizationUrlWithPAR(config, searchParams);
    await assert.rejects(oidc.buildAuthorizationUrlWithPAR(config, searchParams), (err) => {
      assert.equal(err.error, 'invalid_request_object', `${err.code}: ${err.message}`);
      return true;
    });
  });
});
