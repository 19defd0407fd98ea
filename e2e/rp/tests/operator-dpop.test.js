// The operators' APIs honour DPoP (RFC 9449 §7.1) as a resource server must, driven by
// openid-client's own DPoP support: demo-operator gets a DPoP-bound client_credentials token,
// and the console API answers it with a proof for the call (htm, htu the URL called, ath)
// that openid-client signs; the same token sent as a plain bearer token is refused. A bearer
// token still works as Bearer, and not in the DPoP scheme.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';

import { startBroker } from '../../lib/broker.js';

const execute = [oidc.allowInsecureRequests];

let broker;
let operator;

before(async () => {
  broker = await startBroker();
  operator = await oidc.discovery(new URL(broker.url), 'demo-operator', { token_endpoint_auth_method: 'client_secret_basic' },
    oidc.ClientSecretBasic('demo-operator-secret'), { execute });
});

after(async () => {
  await broker?.stop();
});

const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

describe('demo-operator at the console API', () => {
  const providers = () => new URL('/console/api/providers', broker.url);

  test('a DPoP-bound token is answered only with a proof for the call', async () => {
    const key = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(operator, key);
    const tokens = await oidc.clientCredentialsGrant(operator, { scope: 'console:read' }, { DPoP });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    assert.ok(payload(tokens.access_token).cnf?.jkt, 'the token is DPoP-bound');

    const ok = await oidc.fetchProtectedResource(operator, tokens.access_token, providers(), 'GET', undefined, undefined, { DPoP });
    assert.equal(ok.status, 200, await ok.text());

    const bearer = await fetch(providers(), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(bearer.status, 401, 'the bound token sent as a bearer token');
  });

  test('a bearer token is answered as Bearer, refused in the DPoP scheme', async () => {
    const tokens = await oidc.clientCredentialsGrant(operator, { scope: 'console:read' });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    const ok = await fetch(providers(), { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(ok.status, 200, await ok.text());
    const dpop = await fetch(providers(), { headers: { authorization: `DPoP ${tokens.access_token}` } });
    assert.equal(dpop.status, 401);
  });
});
