// A headless user agent for sportello dev's login pages: node:http and node:https (with a
// client certificate for the mTLS listener), a cookie jar, redirects followed by hand, forms
// resubmitted with their hidden fields (CSRF token, login reference) as found. No browser and
// no JavaScript: it stops at the relying party's redirect URI and returns that URL.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const pki = (name) => fs.readFileSync(path.join(root, 'testdata', 'pki', name));

const unescapeHTML = (s) => s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e) => {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e.toLowerCase()];
  if (named) return named;
  return String.fromCodePoint(e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
});

/** attrs parses the attributes of one HTML start tag. */
function attrs(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1].toLowerCase()] = unescapeHTML(m[3] ?? m[4]);
  return out;
}

/** forms lists the forms of a page: action (resolved against base), method and hidden fields. */
export function forms(html, base) {
  const out = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const a = attrs(m[1]);
    const hidden = {};
    for (const i of m[2].matchAll(/<input\b[^>]*>/gi)) {
      const f = attrs(i[0]);
      if ((f.type || '').toLowerCase() === 'hidden' && f.name) hidden[f.name] = f.value ?? '';
    }
    out.push({ action: new URL(a.action || base, base), method: (a.method || 'get').toUpperCase(), hidden });
  }
  return out;
}

export class UserAgent {
  /**
   * @param {object} opts
   * @param {string} opts.stopAt origin of the relying party's redirect URI: the walk ends there
   * @param {{cert: Buffer, key: Buffer}} [opts.clientCert] presented to any https origin
   */
  constructor({ stopAt, clientCert }) {
    this.stopAt = stopAt;
    this.clientCert = clientCert;
    this.jar = new Map(); // host → name → {value, secure}
    this.trail = []; // every URL visited, for failure messages
  }

  cookieHeader(u) {
    const jar = this.jar.get(u.hostname);
    if (!jar) return undefined;
    const pairs = [];
    for (const [name, c] of jar) if (!c.secure || u.protocol === 'https:') pairs.push(`${name}=${c.value}`);
    return pairs.length ? pairs.join('; ') : undefined;
  }

  store(u, setCookie) {
    for (const line of setCookie || []) {
      const [pair, ...rest] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const flags = rest.map((s) => s.trim().toLowerCase());
      const jar = this.jar.get(u.hostname) || new Map();
      this.jar.set(u.hostname, jar);
      const gone = flags.some((f) => f === 'max-age=0' || f.startsWith('max-age=-')) ||
        flags.some((f) => f.startsWith('expires=') && Date.parse(f.slice(8)) < Date.now());
      if (gone) jar.delete(name);
      else jar.set(name, { value, secure: flags.includes('secure') });
    }
  }

  /** request sends one request (no redirect following) and returns status, headers, body. */
  request(url, { method = 'GET', form } = {}) {
    const u = new URL(url);
    this.trail.push(`${method} ${u.origin}${u.pathname}`);
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const headers = { 'Accept-Language': 'it', Accept: 'text/html' };
    const cookie = this.cookieHeader(u);
    if (cookie) headers.Cookie = cookie;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const mod = u.protocol === 'https:' ? https : http;
    const tls = u.protocol === 'https:'
      ? { ca: pki('server-ca.crt'), ...(this.clientCert || {}), agent: false }
      : { agent: false };
    return new Promise((resolve, reject) => {
      const req = mod.request(u, { method, headers, ...tls }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          this.store(u, res.headers['set-cookie']);
          resolve({ url: u, status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.setTimeout(20_000, () => req.destroy(new Error('timeout: ' + u)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /**
   * walk follows redirects from url until the relying party's redirect URI (returned as a
   * URL) or a page (returned as the response).
   */
  async walk(url, init) {
    let res = await this.request(url, init);
    for (let hops = 0; hops < 20; hops++) {
      if (![301, 302, 303, 307, 308].includes(res.status)) return res;
      const next = new URL(res.headers.location, res.url);
      if (next.origin === this.stopAt) {
        this.trail.push(`→ ${next.origin}${next.pathname}`);
        return next;
      }
      res = await this.request(next);
    }
    throw new Error('too many redirects: ' + this.trail.join(' '));
  }

  /** submit fills the page's form that has field (or its only form) and posts it. */
  async submit(page, values) {
    const all = forms(page.body, page.url);
    const form = all.find((f) => f.method === 'POST') || all[0];
    if (!form) throw new Error(`no form on ${page.url} (${page.status}): ${page.body.slice(0, 500)}`);
    return this.walk(form.action, { method: 'POST', form: { ...form.hidden, ...values } });
  }
}

/** expectCallback returns the redirect-URI URL a walk reached, or fails with what was seen. */
export function expectCallback(ua, got) {
  if (got instanceof URL) return got;
  throw new Error(`login did not reach the relying party: ${got.status} at ${got.url}\n` +
    `trail: ${ua.trail.join(' ')}\n${got.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 800)}`);
}
