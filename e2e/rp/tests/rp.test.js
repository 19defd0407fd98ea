// sportello dev driven by a relying-party library we did not build on: panva's openid-client
// (v6, on oauth4webapi and fetch). The logins are done headlessly over HTTP with the dev
// automation hooks (idp=cie with the dev CIE certificate over the mTLS listener; idp=pin with
// Giovanna Ferrari's PIN), everything else is openid-client: discovery, authorization code +
// PKCE S256, the ID token checks (signature against the JWKS, iss, aud, nonce, the iss
// authorization response parameter), refresh, userinfo, introspection and revocation.
//
// Where openid-client refuses something the broker does, the assertion is a test named
// "KNOWN BROKER GAP: ..." that states what was refused; the rest stays green.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';

import { startBroker } from '../../lib/broker.js';
import { UserAgent, expectCallback, pki } from '../lib/headless.js';

const RP_ORIGIN = 'http://127.0.0.1:9000';
const REDIRECT_URI = RP_ORIGIN + '/callback';
const SCOPE = 'openid profile fiscal_number offline_access';
const L2 = 'https://www.spid.gov.it/SpidL2';
const L3 = 'https://www.spid.gov.it/SpidL3';

let broker;
let issuer;
const configs = {};

// The dev issuer is http://127.0.0.1:<port>: openid-client refuses plain http unless told.
// Non-repudiation checks make it verify the ID token's signature against the JWKS too.
const execute = [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks];

before(async () => {
  broker = await startBroker();
  issuer = new URL(broker.url);
  configs.rp = await oidc.discovery(issuer, 'demo-rp', { token_endpoint_auth_method: 'client_secret_basic' },
    oidc.ClientSecretBasic('demo-secret'), { execute });
  configs.spa = await oidc.discovery(issuer, 'demo-spa', { token_endpoint_auth_method: 'none' }, oidc.None(), { execute });
  configs.service = await oidc.discovery(issuer, 'demo-service', { token_endpoint_auth_method: 'client_secret_basic' },
    oidc.ClientSecretBasic('demo-service-secret'), { execute });
});

after(async () => {
  await broker?.stop();
});

/**
 * authorize runs the front channel of authorization code + PKCE S256 for config through the
 * headless user agent and returns the redirect-URI URL reached and the values to check.
 */
async function authorize(config, { idp, clientCert, pinForm, idpForm, acr }) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: SCOPE, state, nonce, idp, ...(acr ? { acr_values: acr } : {}),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const ua = new UserAgent({ stopAt: RP_ORIGIN, clientCert });
  let got = await ua.walk(url);
  if (pinForm) got = await ua.submit(got, pinForm);
  if (idpForm) {
    // A dev SAML identity provider's form, then its auto-submitting form to the broker's ACS
    // (posted as a browser without JavaScript would).
    got = await ua.submit(got, idpForm);
    got = await ua.submit(got, {});
  }
  return { callback: expectCallback(ua, got), verifier, state, nonce };
}

/** login is authorize then the code exchange: openid-client validates the ID token. */
async function login(config, opts) {
  const a = await authorize(config, opts);
  const tokens = await oidc.authorizationCodeGrant(config, a.callback, {
    pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state, idTokenExpected: true,
  });
  return { ...a, tokens };
}

const samlLogin = (idp, username, level, acr) => ({
  idp, acr, idpForm: { username, password: 'test-password', level, action: 'login' },
});

const marioCIE = () => ({ idp: 'cie', clientCert: { cert: pki('mario-rossi-cie.crt'), key: pki('mario-rossi-cie.key') } });

/** refusal describes what openid-client refused, for the KNOWN BROKER GAP tests. */
const refusal = (err) => `${err.name}: ${err.message}${err.code ? ` [${err.code}]` : ''}` +
  `${err.cause ? ` (cause: ${JSON.stringify(err.cause?.body ?? err.cause?.message ?? err.cause)})` : ''}`;

test('discovery: the issuer document openid-client reads matches the dev contract', () => {
  const md = configs.rp.serverMetadata();
  assert.equal(md.issuer, broker.url);
  for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri',
    'introspection_endpoint', 'revocation_endpoint']) {
    assert.ok(md[k]?.startsWith(broker.url + '/'), `${k} = ${md[k]}`);
  }
  assert.ok(md.code_challenge_methods_supported?.includes('S256'), 'S256 advertised');
  assert.ok(!md.code_challenge_methods_supported?.includes('plain'), 'plain not advertised');
  assert.deepEqual(md.response_types_supported, ['code']);
  assert.ok(md.supportsPKCE('S256'));
});

describe('demo-rp (confidential, client_secret_basic): CIE login over the mTLS listener', () => {
  let got;

  before(async () => {
    got = await login(configs.rp, marioCIE());
  });

  test('the code exchange gives an ID token openid-client validated (signature, iss, aud, nonce)', () => {
    const { tokens, nonce, callback } = got;
    const claims = tokens.claims();
    assert.equal(claims.iss, broker.url);
    assert.ok([claims.aud].flat().includes('demo-rp'));
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.fiscal_number, 'RSSMRA80A01H501U');
    assert.equal(claims.auth_method, 'cie');
    assert.equal(claims.acr, L3);
    assert.deepEqual(claims.amr, ['sc', 'pin', 'hwk', 'mfa']);
    assert.equal(callback.searchParams.get('iss'), broker.url, 'RFC 9207 iss in the authorization response');
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.access_token && tokens.refresh_token, 'access and refresh tokens issued');
    assert.ok(tokens.expiresIn() > 0);
  });

  test('userinfo answers for the ID token\'s subject', async () => {
    const { tokens } = got;
    const info = await oidc.fetchUserInfo(configs.rp, tokens.access_token, tokens.claims().sub);
    assert.equal(info.sub, tokens.claims().sub);
    assert.equal(info.fiscal_number, 'RSSMRA80A01H501U');
  });

  test('introspection by demo-service: the access token is active and names its client and subject', async () => {
    const { tokens } = got;
    const intro = await oidc.tokenIntrospection(configs.service, tokens.access_token);
    assert.equal(intro.active, true);
    assert.equal(intro.sub, tokens.claims().sub);
    assert.equal(intro.client_id, 'demo-rp');
  });

  test('refresh rotates the refresh token and keeps the subject and level', async () => {
    const { tokens } = got;
    const next = await oidc.refreshTokenGrant(configs.rp, tokens.refresh_token);
    assert.ok(next.access_token && next.refresh_token);
    assert.notEqual(next.refresh_token, tokens.refresh_token, 'rotated');
    const claims = next.claims();
    if (claims) {
      assert.equal(claims.sub, tokens.claims().sub);
      assert.equal(claims.acr, L3);
    }
    const intro = await oidc.tokenIntrospection(configs.service, next.access_token);
    assert.equal(intro.active, true);
    assert.equal(intro.sub, tokens.claims().sub);
    got.refreshed = next;
  });

  test('revocation: a revoked refresh token neither introspects as active nor refreshes', async () => {
    const token = got.refreshed.refresh_token;
    await oidc.tokenRevocation(configs.rp, token, { token_type_hint: 'refresh_token' });
    const intro = await oidc.tokenIntrospection(configs.service, token, { token_type_hint: 'refresh_token' });
    assert.equal(intro.active, false);
    await assert.rejects(oidc.refreshTokenGrant(configs.rp, token), (err) => {
      assert.equal(err.error, 'invalid_grant', refusal(err));
      return true;
    });
  });
});

describe('demo-spa (public, PKCE): PIN login of Giovanna Ferrari', () => {
  let got;

  before(async () => {
    got = await login(configs.spa, { idp: 'pin', pinForm: { fiscal_code: 'FRRGNN55T50Z600A', pin: 'A1B2C3D4' } });
  });

  test('the code exchange without a secret gives a validated ID token', () => {
    const { tokens, nonce } = got;
    const claims = tokens.claims();
    assert.equal(claims.iss, broker.url);
    assert.ok([claims.aud].flat().includes('demo-spa'));
    assert.equal(claims.nonce, nonce);
    assert.equal(claims.fiscal_number, 'FRRGNN55T50Z600A');
    assert.equal(claims.auth_method, 'pin');
    assert.equal(claims.acr, L2);
    assert.equal(claims.pin_type, 'dispositivo');
  });

  test('userinfo and refresh for the public client', async () => {
    const { tokens } = got;
    const info = await oidc.fetchUserInfo(configs.spa, tokens.access_token, tokens.claims().sub);
    assert.equal(info.fiscal_number, 'FRRGNN55T50Z600A');
    assert.ok(tokens.refresh_token, 'refresh token issued to the public client');
    const next = await oidc.refreshTokenGrant(configs.spa, tokens.refresh_token);
    assert.ok(next.access_token);
    got.refreshed = next;
  });

  test('revocation by the public client ends its access token', async () => {
    const { access_token: token } = got.refreshed;
    assert.equal((await oidc.tokenIntrospection(configs.service, token)).active, true);
    await oidc.tokenRevocation(configs.spa, token, { token_type_hint: 'access_token' });
    assert.equal((await oidc.tokenIntrospection(configs.service, token)).active, false);
  });
});

// A test that cannot fail proves nothing: openid-client's checks must be live against this
// broker, so a wrong nonce, a wrong PKCE verifier and a replayed code are refused.
describe('openid-client\'s checks are live', () => {
  test('the ID token signature was checked against the published JWKS', async () => {
    await login(configs.rp, marioCIE());
    const cache = oidc.getJwksCache(configs.rp);
    assert.ok(cache?.jwks?.keys?.length > 0, 'JWKS fetched for the signature check');
  });

  test('an ID token with another nonce is refused', async () => {
    const a = await authorize(configs.rp, marioCIE());
    await assert.rejects(oidc.authorizationCodeGrant(configs.rp, a.callback, {
      pkceCodeVerifier: a.verifier, expectedNonce: oidc.randomNonce(), expectedState: a.state, idTokenExpected: true,
    }), (err) => {
      assert.equal(err.code, 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', refusal(err));
      assert.match(String(err.cause), /nonce/, refusal(err));
      return true;
    });
  });

  test('a wrong PKCE verifier is refused by the broker with invalid_grant', async () => {
    const a = await authorize(configs.spa, marioCIE());
    await assert.rejects(oidc.authorizationCodeGrant(configs.spa, a.callback, {
      pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedNonce: a.nonce, expectedState: a.state, idTokenExpected: true,
    }), (err) => {
      assert.equal(err.error, 'invalid_grant', refusal(err));
      return true;
    });
  });

  test('a code used twice is refused the second time', async () => {
    const a = await login(configs.rp, marioCIE());
    await assert.rejects(oidc.authorizationCodeGrant(configs.rp, a.callback, {
      pkceCodeVerifier: a.verifier, expectedNonce: a.nonce, expectedState: a.state, idTokenExpected: true,
    }), (err) => {
      assert.equal(err.error, 'invalid_grant', refusal(err));
      return true;
    });
  });
});

/**
 * formLogin runs authorization code + PKCE for demo-rp with params, submits each form of
 * steps in turn (a login form, then any auto-submitting POST form), and exchanges the code:
 * openid-client validates the ID token.
 */
async function formLogin(params, steps) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(configs.rp, {
    redirect_uri: REDIRECT_URI, scope: SCOPE, state, nonce, ...params,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const ua = new UserAgent({ stopAt: RP_ORIGIN });
  let got = await ua.walk(url);
  for (const values of steps) {
    if (got instanceof URL) break;
    got = await ua.submit(got, values);
  }
  const tokens = await oidc.authorizationCodeGrant(configs.rp, expectCallback(ua, got), {
    pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
  });
  return tokens.claims();
}

describe('demo-rp: SPID and CIE over OpenID Connect Federation, through the dev OPs of GET /dev/oidcfed/', () => {
  let ops;
  let saml;
  const mario = (level) => ({ username: 'RSSMRA80A01H501U', password: 'test-password', level, action: 'login' });

  before(async () => {
    ops = await (await fetch(`${broker.url}/dev/oidcfed/`)).json();
    // The same person through SAML, for the sub: the dev IdP's form, then its POST to the ACS.
    saml = await formLogin({ idp: 'demo', acr_values: L2 }, [mario('2'), {}, {}]);
  });

  test('the dev federation lists a SPID and a CIE OP', () => {
    assert.deepEqual(ops.map((o) => o.profile), ['spid', 'cie']);
    for (const o of ops) assert.ok(o.entity_id.startsWith(`${broker.url}/dev/oidcfed/`), o.entity_id);
  });

  for (const profile of ['spid', 'cie']) {
    for (const [level, acr] of [['2', L2], ['3', L3]]) {
      test(`${profile.toUpperCase()}-OIDC at L${level}: validated ID token with the right claims and the SAML login's sub`, async () => {
        const op = ops.find((o) => o.profile === profile);
        const claims = await formLogin({ idp: op.entity_id, acr_values: acr }, [mario(level)]);
        assert.equal(claims.iss, broker.url);
        assert.equal(claims.auth_method, profile);
        assert.equal(claims.acr, acr);
        assert.equal(claims.fiscal_number, 'RSSMRA80A01H501U');
        assert.equal(claims.family_name, 'Rossi');
        assert.equal(claims.sub, saml.sub, 'the same person has the same sub as through SAML');
        assert.equal(saml.auth_method, 'spid');
        if (profile === 'spid') assert.equal(claims.spid_idp, op.entity_id);
      });
    }
  }
});

describe('SAML logins through the dev CIE ID server and the dev eIDAS node', () => {
  test('CIE ID at L2 and L3: auth_method cie, cie_channel cieid, the sub of the CIE certificate', async () => {
    const cert = (await login(configs.rp, marioCIE())).tokens.claims();
    for (const [level, acr] of [['2', L2], ['3', L3]]) {
      const c = (await login(configs.rp, samlLogin('cieid', 'RSSMRA80A01H501U', level, acr))).tokens.claims();
      assert.equal(c.auth_method, 'cie');
      assert.equal(c.cie_channel, 'cieid');
      assert.equal(c.acr, acr);
      assert.equal(c.fiscal_number, 'RSSMRA80A01H501U');
      assert.equal(c.sub, cert.sub, 'one sub for Mario Rossi by CIE ID and by certificate');
    }
    assert.equal(cert.cie_channel, 'certificate');
  });

  test('eIDAS: Anna Schmidt has no fiscal_number; Giovanna Ferrari, linked, has the sub of her PIN', async () => {
    const anna = (await login(configs.rp, samlLogin('eidas', 'DE/IT/0123456789ABCDEF', '2', L2))).tokens.claims();
    assert.equal(anna.auth_method, 'eidas');
    assert.equal(anna.eidas_country, 'DE');
    assert.equal(anna.fiscal_number, undefined);
    assert.equal(anna.given_name, 'Anna');
    const giovanna = (await login(configs.rp, samlLogin('eidas', 'ES/IT/X1234567T', '3', L3))).tokens.claims();
    assert.equal(giovanna.eidas_country, 'ES');
    assert.equal(giovanna.fiscal_number, 'FRRGNN55T50Z600A');
    const pin = (await login(configs.rp, { idp: 'pin', pinForm: { fiscal_code: 'FRRGNN55T50Z600A', pin: 'A1B2C3D4' } })).tokens.claims();
    assert.equal(giovanna.sub, pin.sub, 'one sub for Giovanna Ferrari by eIDAS and by PIN');
    assert.notEqual(anna.sub, pin.sub);
  });

  test('an eIDAS "low" answer to an L2 request is refused', async () => {
    const a = await authorize(configs.rp, samlLogin('eidas', 'DE/IT/0123456789ABCDEF', '1', L2)).catch((e) => e);
    assert.ok(a instanceof Error, 'no code for a low answer');
    assert.match(a.message, /unmet_authentication_requirements|did not reach the relying party/);
  });
});

describe('demo-rp: pushed authorization requests (RFC 9126) through openid-client', () => {
  test('discovery advertises the pushed authorization request endpoint, not required', () => {
    const md = configs.rp.serverMetadata();
    assert.equal(md.pushed_authorization_request_endpoint, `${broker.url}/oauth/par`);
    assert.equal(md.require_pushed_authorization_requests, false);
    assert.equal(md.authorization_response_iss_parameter_supported, true);
  });

  test('pushed with client_secret_basic, redeemed once from client_id and request_uri alone', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = await oidc.buildAuthorizationUrlWithPAR(configs.rp, {
      redirect_uri: REDIRECT_URI, scope: SCOPE, state, nonce, idp: 'cie',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    const { clientCert } = marioCIE();
    const ua = new UserAgent({ stopAt: RP_ORIGIN, clientCert });
    const callback = expectCallback(ua, await ua.walk(url));
    const tokens = await oidc.authorizationCodeGrant(configs.rp, callback, {
      pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
    });
    assert.equal(tokens.claims().fiscal_number, 'RSSMRA80A01H501U');
    assert.equal(tokens.claims().nonce, nonce);
    // The same request_uri again is a page of the broker, never a redirect to the RP.
    const again = await new UserAgent({ stopAt: RP_ORIGIN, clientCert }).walk(url);
    assert.ok(!(again instanceof URL), 'a used request_uri reached the relying party');
    assert.equal(again.status, 400);
  });
});
