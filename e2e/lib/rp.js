'use strict';
// A tiny relying party on http://127.0.0.1:9000 (the demo clients' registered redirect URI):
// /start sends the browser to the broker's /authorize (state, nonce, PKCE S256); /callback
// exchanges the code at the token endpoint as demo-rp, verifies the ID token (signature
// against the JWKS, iss, aud, exp, nonce) and shows its claims.
const crypto = require('node:crypto');
const http = require('node:http');

const CLIENT_ID = 'demo-rp';
const CLIENT_SECRET = 'demo-secret';
const REDIRECT_URI = 'http://127.0.0.1:9000/callback';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} – demo relying party</title></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

async function verifyIDToken(issuer, idToken, nonce) {
  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  const jwks = await (await fetch(issuer + '/jwks')).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error('no JWKS key ' + header.kid);
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(h + '.' + p);
  const sig = Buffer.from(s, 'base64url');
  let ok;
  if (header.alg === 'ES256') ok = crypto.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  else if (header.alg === 'RS256') ok = crypto.verify('sha256', data, key, sig);
  else throw new Error('unexpected alg ' + header.alg);
  if (!ok) throw new Error('bad ID token signature');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== issuer) throw new Error('iss ' + claims.iss);
  if (!aud.includes(CLIENT_ID)) throw new Error('aud ' + claims.aud);
  if (claims.exp * 1000 < Date.now()) throw new Error('expired ID token');
  if (claims.nonce !== nonce) throw new Error('nonce mismatch');
  return claims;
}

/** startRP listens on 127.0.0.1:9000; setIssuer points it at the broker under test. */
function startRP() {
  let issuer = '';
  const pending = new Map();
  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1:9000');
    const send = (status, html) => {
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(html);
    };
    try {
      if (u.pathname === '/start') {
        const state = b64url(crypto.randomBytes(16));
        const nonce = b64url(crypto.randomBytes(16));
        const verifier = b64url(crypto.randomBytes(32));
        pending.set(state, { nonce, verifier });
        const q = new URLSearchParams({
          client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, response_type: 'code', state, nonce,
          scope: 'openid profile email fiscal_number', code_challenge_method: 'S256',
          code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()),
        });
        for (const k of ['acr_values', 'ui_locales', 'idp', 'prompt']) if (u.searchParams.get(k)) q.set(k, u.searchParams.get(k));
        res.writeHead(302, { Location: issuer + '/authorize?' + q });
        return res.end();
      }
      if (u.pathname === '/callback') {
        const st = pending.get(u.searchParams.get('state'));
        if (!st) return send(400, page('Unknown state', '<p>unknown state</p>'));
        pending.delete(u.searchParams.get('state'));
        if (u.searchParams.get('error')) {
          return send(200, page('Sign-in not completed', `<p id="error">${esc(u.searchParams.get('error'))}</p>`));
        }
        if (u.searchParams.get('iss') !== issuer) throw new Error('iss parameter ' + u.searchParams.get('iss'));
        const tok = await fetch(issuer + '/oauth/token', {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded',
            Authorization: 'Basic ' + Buffer.from(CLIENT_ID + ':' + CLIENT_SECRET).toString('base64') },
          body: new URLSearchParams({ grant_type: 'authorization_code', code: u.searchParams.get('code'),
            redirect_uri: REDIRECT_URI, code_verifier: st.verifier }),
        });
        const body = await tok.json();
        if (!tok.ok) throw new Error('token endpoint: ' + JSON.stringify(body));
        const claims = await verifyIDToken(issuer, body.id_token, st.nonce);
        const rows = Object.entries(claims).map(([k, v]) =>
          `<dt>${esc(k)}</dt><dd data-claim="${esc(k)}">${esc(typeof v === 'string' ? v : JSON.stringify(v))}</dd>`).join('');
        return send(200, page('Verified ID token', `<p>Signature, issuer, audience, expiry and nonce checked.</p><dl>${rows}</dl>
<pre id="claims">${esc(JSON.stringify(claims, null, 2))}</pre>`));
      }
      send(404, page('Not found', '<p>not found</p>'));
    } catch (err) {
      send(500, page('Relying party error', `<p id="error">${esc(err.message)}</p>`));
    }
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(9000, '127.0.0.1', () => resolve({
      url: 'http://127.0.0.1:9000',
      setIssuer(i) { issuer = i; },
      close: () => new Promise((r) => server.close(r)),
    }));
  });
}

module.exports = { startRP };
