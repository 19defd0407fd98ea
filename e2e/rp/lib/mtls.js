// The mutual-TLS leg of openid-client's calls: a fetch over node:https presenting a client
// certificate (openid-client's customFetch hook, as its documentation shows for mTLS), and the
// confirmation claims the tests compare.
import crypto from 'node:crypto';
import https from 'node:https';

import { pki } from './headless.js';

/** mtlsFetch is a fetch over node:https presenting cert (plain fetch for http URLs). */
export function mtlsFetch(cert) {
  return async (url, options) => {
    const u = new URL(url);
    if (u.protocol !== 'https:') return fetch(url, options);
    const headers = Object.fromEntries(new Headers(options.headers).entries());
    const body = options.body === undefined || options.body === null ? undefined : String(options.body);
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    return new Promise((resolve, reject) => {
      const req = https.request(u, { method: options.method, headers, ca: pki('server-ca.crt'), ...cert, agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) for (const one of [].concat(v)) h.append(k, one);
          const data = Buffer.concat(chunks);
          resolve(new Response([204, 304].includes(res.statusCode) ? null : data, { status: res.statusCode, headers: h }));
        });
      });
      req.setTimeout(20_000, () => req.destroy(new Error('timeout: ' + u)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  };
}

/** thumbprint is the x5t#S256 of a PEM certificate (RFC 8705 §3.1). */
export const thumbprint = (pem) => crypto.createHash('sha256').update(new crypto.X509Certificate(pem).raw).digest('base64url');

/** cnf is the cnf claim of an access token (the client reads its own token). */
export const cnf = (at) => JSON.parse(Buffer.from(at.split('.')[1], 'base64url').toString()).cnf;
