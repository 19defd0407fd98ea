// DPoP (RFC 9449) on the mutual-TLS aliases (RFC 8705 §5) through openid-client: demo-mtls
// authenticates with its certificate at the mtls_endpoint_aliases and sends DPoP proofs
// (getDPoPHandle), whose htu openid-client sets to the alias it calls (RFC 9449 §4.3). The
// access token is bound twice, to the key (cnf.jkt) and to the certificate (cnf.x5t#S256), and
// userinfo answers it only with both.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';

import { startBroker } from '../../lib/broker.js';
import { UserAgent, expectCallback, pki } from '../lib/headless.js';
import { cnf, mtlsFetch, thumbprint } from '../lib/mtls.js';

const RP_ORIGIN = 'http://127.0.0.1:9000';
const REDIRECT_URI = RP_ORIGIN + '/callback';
const execute = [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks];
const clientCert = (name) => ({ cert: pki(`${name}.crt`), key: pki(`${name}.key`) });

let broker;
const configs = {};

async function mtlsConfig(id, cert) {
  const config = await oidc.discovery(new URL(broker.url), id,
    { use_mtls_endpoint_aliases: true, tls_client_certificate_bound_access_tokens: true }, oidc.TlsClientAuth(), { execute });
  config[oidc.customFetch] = mtlsFetch(cert);
  return config;
}

before(async () => {
  broker = await startBroker();
  configs.mtls = await mtlsConfig('demo-mtls', clientCert('demo-mtls'));
  configs.thief = await mtlsConfig('demo-mtls', clientCert('demo-fapi2'));
});

after(async () => {
  await broker?.stop();
});

describe('DPoP on the mutual-TLS aliases through openid-client', () => {
  test('demo-mtls with a DPoP key: a token bound to both, userinfo only with both', async () => {
    const dpop = oidc.getDPoPHandle(configs.mtls, await oidc.randomDPoPKeyPair());
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(configs.mtls, {
      redirect_uri: REDIRECT_URI, scope: 'openid fiscal_number', state, nonce, idp: 'cie',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const ua = new UserAgent({ stopAt: RP_ORIGIN, clientCert: clientCert('mario-rossi-cie') });
    const callback = expectCallback(ua, await ua.walk(url));
    const tokens = await oidc.authorizationCodeGrant(configs.mtls, callback, {
      pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
    }, undefined, { DPoP: dpop });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    const bound = cnf(tokens.access_token);
    assert.equal(bound['x5t#S256'], thumbprint(pki('demo-mtls.crt')));
    assert.match(bound.jkt ?? '', /^[A-Za-z0-9_-]{43}$/);
    const sub = tokens.claims().sub;

    const info = await oidc.fetchUserInfo(configs.mtls, tokens.access_token, sub, { DPoP: dpop });
    assert.equal(info.fiscal_number, 'RSSMRA80A01H501U');
    // The certificate without the proof (the token as Bearer), the proof without the certificate.
    await assert.rejects(oidc.fetchUserInfo(configs.mtls, tokens.access_token, sub), (err) => {
      assert.equal(err.status, 401);
      return true;
    });
    await assert.rejects(oidc.fetchUserInfo(configs.thief, tokens.access_token, sub, { DPoP: dpop }), (err) => {
      assert.equal(err.status, 401);
      return true;
    });
  });
});
