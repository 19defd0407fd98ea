// RFC 8705 and the FAPI 2.0 profile through openid-client: the dev clients demo-mtls
// (tls_client_auth, certificate-bound tokens) and demo-fapi2 (profile fapi2) authenticate with
// their certificates of testdata/pki at the mutual-TLS aliases discovery names
// (use_mtls_endpoint_aliases); the person logs in with the dev CIE card over the mTLS listener
// as in rp.test.js. openid-client's fetch goes through node:https with the client's
// certificate (its customFetch hook, as its documentation shows for mTLS).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';

import { startBroker } from '../../lib/broker.js';
import { UserAgent, expectCallback, pki } from '../lib/headless.js';
import { cnf, mtlsFetch, thumbprint } from '../lib/mtls.js';

const RP_ORIGIN = 'http://127.0.0.1:9000';
const REDIRECT_URI = RP_ORIGIN + '/callback';
const SCOPE = 'openid profile fiscal_number offline_access';
const execute = [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks];
const marioCIE = { cert: pki('mario-rossi-cie.crt'), key: pki('mario-rossi-cie.key') };
const clientCert = (name) => ({ cert: pki(`${name}.crt`), key: pki(`${name}.key`) });

let broker;
const configs = {};

async function mtlsConfig(id, cert, metadata = {}) {
  const config = await oidc.discovery(new URL(broker.url), id,
    { use_mtls_endpoint_aliases: true, tls_client_certificate_bound_access_tokens: true, ...metadata },
    oidc.TlsClientAuth(), { execute });
  config[oidc.customFetch] = mtlsFetch(cert);
  return config;
}

before(async () => {
  broker = await startBroker();
  configs.mtls = await mtlsConfig('demo-mtls', clientCert('demo-mtls'));
  configs.fapi = await mtlsConfig('demo-fapi2', clientCert('demo-fapi2'), { require_pushed_authorization_requests: true });
  // demo-mtls as seen by whoever holds only another certificate (demo-fapi2's).
  configs.thief = await mtlsConfig('demo-mtls', clientCert('demo-fapi2'));
});

after(async () => {
  await broker?.stop();
});

/** cieLogin runs the front channel for url with Mario Rossi's CIE and returns the callback. */
async function cieLogin(url) {
  const ua = new UserAgent({ stopAt: RP_ORIGIN, clientCert: marioCIE });
  return expectCallback(ua, await ua.walk(url));
}

describe('RFC 8705 mutual-TLS clients through openid-client', () => {
  test('discovery names the mutual-TLS aliases, the methods and the binding', () => {
    const md = configs.mtls.serverMetadata();
    const mtlsOrigin = new URL(md.mtls_endpoint_aliases.token_endpoint).origin;
    assert.equal(md.tls_client_certificate_bound_access_tokens, true);
    for (const k of ['token_endpoint', 'pushed_authorization_request_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'userinfo_endpoint']) {
      assert.ok(md.mtls_endpoint_aliases[k]?.startsWith(mtlsOrigin + '/'), k);
    }
    assert.notEqual(mtlsOrigin, new URL(broker.url).origin);
    assert.ok(md.token_endpoint_auth_methods_supported.includes('tls_client_auth'));
    assert.ok(md.token_endpoint_auth_methods_supported.includes('self_signed_tls_client_auth'));
  });

  test('demo-mtls: code flow with tls_client_auth, tokens bound to its certificate, userinfo only with it', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(configs.mtls, {
      redirect_uri: REDIRECT_URI, scope: SCOPE, state, nonce, idp: 'cie',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const tokens = await oidc.authorizationCodeGrant(configs.mtls, await cieLogin(url), {
      pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
    });
    assert.equal(tokens.claims().fiscal_number, 'RSSMRA80A01H501U');
    assert.equal(cnf(tokens.access_token)['x5t#S256'], thumbprint(pki('demo-mtls.crt')));
    const sub = tokens.claims().sub;
    const info = await oidc.fetchUserInfo(configs.mtls, tokens.access_token, sub);
    assert.equal(info.fiscal_number, 'RSSMRA80A01H501U');
    await assert.rejects(oidc.fetchUserInfo(configs.thief, tokens.access_token, sub), (err) => {
      assert.equal(err.status, 401);
      return true;
    });
    const refreshed = await oidc.refreshTokenGrant(configs.mtls, tokens.refresh_token);
    assert.equal(cnf(refreshed.access_token)['x5t#S256'], thumbprint(pki('demo-mtls.crt')));
  });

  test('demo-mtls: client_credentials and introspection by certificate', async () => {
    const tokens = await oidc.clientCredentialsGrant(configs.mtls, { scope: 'inps:services' });
    assert.equal(cnf(tokens.access_token)['x5t#S256'], thumbprint(pki('demo-mtls.crt')));
    const intro = await oidc.tokenIntrospection(configs.mtls, tokens.access_token);
    assert.equal(intro.active, true);
    assert.equal(intro.cnf['x5t#S256'], thumbprint(pki('demo-mtls.crt')));
  });

  test('another certificate does not authenticate demo-mtls', async () => {
    await assert.rejects(oidc.clientCredentialsGrant(configs.thief, { scope: 'inps:services' }), (err) => {
      // A 401 with WWW-Authenticate: openid-client reports the challenge and the status.
      assert.equal(err.status, 401, String(err));
      return true;
    });
  });

  test('demo-fapi2: pushed request with PKCE, tls_client_auth, bound tokens', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = await oidc.buildAuthorizationUrlWithPAR(configs.fapi, {
      redirect_uri: REDIRECT_URI, scope: SCOPE, state, nonce, idp: 'cie',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    const tokens = await oidc.authorizationCodeGrant(configs.fapi, await cieLogin(url), {
      pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
    });
    assert.equal(cnf(tokens.access_token)['x5t#S256'], thumbprint(pki('demo-fapi2.crt')));
    assert.equal(JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url').toString()).alg, 'ES256');
  });

  test('demo-fapi2: a plain authorization request is refused', async () => {
    const url = oidc.buildAuthorizationUrl(configs.fapi, {
      redirect_uri: REDIRECT_URI, scope: SCOPE, state: oidc.randomState(), idp: 'cie',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    });
    const got = await new UserAgent({ stopAt: RP_ORIGIN, clientCert: marioCIE }).walk(url);
    if (got instanceof URL) {
      assert.equal(got.searchParams.get('error'), 'invalid_request');
      assert.equal(got.searchParams.get('code'), null);
    } else {
      assert.equal(got.status, 400);
    }
  });
});
