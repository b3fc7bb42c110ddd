// dsync's bridge to directus-sync's JavaScript configs (hook-bridge.cjs).
// dsyncd is C and runs no JavaScript: when its config is a
// directus-sync.config.js or .cjs, it runs this script with node.
//
//   node hook-bridge.cjs options FILE
//       prints {"config": ...}: FILE's exported object as JSON, each
//       function replaced by {"$function": true} (dsyncd reads the rest
//       as it reads a JSON config, "extends" included).
//   node hook-bridge.cjs call FILE ROW POINT
//       reads {"data": ..., "directus": {url, token | email and password,
//       headers}} on standard input, calls FILE's hooks[ROW][POINT] with
//       the data (and, when the function takes a second parameter, a
//       Directus client), and prints what it returns as JSON.
//
// The client has request(command), for the command functions of
// @directus/sdk (readItems(...), readFlows(...), ...) when the config
// requires the SDK itself; the request goes to the instance with dsync's
// credentials. Errors go to standard error, with exit status 1.
'use strict';

const path = require('path');

function fail(message) {
  process.stderr.write(message + '\n');
  process.exit(1);
}

function load(file) {
  const abs = path.resolve(file);
  let mod;
  try {
    mod = require(abs);
  } catch (e) {
    fail(`${file}: ${e && e.message ? e.message.split('\n')[0] : e}`);
  }
  if (mod && typeof mod === 'object' && mod.__esModule && mod.default) {
    mod = mod.default;
  }
  if (!mod || typeof mod !== 'object' || Array.isArray(mod)) {
    fail(`${file}: module.exports is not a config object`);
  }
  return mod;
}

// The config as JSON: functions marked, what JSON cannot hold dropped.
function plain(value, depth) {
  if (typeof value === 'function') return { $function: true };
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' || typeof value === 'symbol' ||
      value === undefined ? undefined : value;
  }
  if (depth > 64) return undefined;
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1) ?? null);
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    const p = plain(v, depth + 1);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

// A query value as the SDK sends it: fields (nested ones as a.b) and
// other lists joined by commas, objects as JSON, the rest as text.
function fieldList(v, prefix) {
  const out = [];
  for (const f of v) {
    if (f && typeof f === 'object') {
      for (const [k, sub] of Object.entries(f)) {
        out.push(...fieldList(Array.isArray(sub) ? sub : [sub], `${prefix}${k}.`));
      }
    } else out.push(prefix + f);
  }
  return out;
}
function param(key, v) {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    return key === 'fields' ? fieldList(v, '').join(',') : v.map(String).join(',');
  }
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function client(d) {
  const base = String(d.url || '').replace(/\/+$/, '');
  let token = d.token || null;
  const extra = {};
  for (const h of d.headers || []) {
    const i = h.indexOf(':');
    if (i > 0) extra[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  async function send(o) {
    const url = new URL(base + o.path);
    for (const [k, v] of Object.entries(o.params || {})) {
      if (v !== undefined) url.searchParams.set(k, param(k, v));
    }
    const headers = { Accept: 'application/json', ...extra, ...(o.headers || {}) };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (o.body !== undefined && typeof o.body === 'string' && !headers['Content-Type']) {
      headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(url, { method: o.method || 'GET', headers, body: o.body });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`${o.method || 'GET'} ${o.path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    if (!text) return null;
    const j = JSON.parse(text);
    return j && typeof j === 'object' && 'data' in j ? j.data : j;
  }
  async function login() {
    const r = await send({
      path: '/auth/login', method: 'POST',
      body: JSON.stringify({ email: d.email, password: d.password }),
    });
    token = r.access_token;
  }
  const c = {
    url: new URL(base || 'http://localhost'),
    async request(command) {
      if (typeof command !== 'function') {
        throw new Error('client.request() takes a command of @directus/sdk, such as readItems(...)');
      }
      const o = await command(c);
      if (!token && d.email) await login();
      return send(o);
    },
  };
  return c;
}

async function call(file, row, point) {
  const cfg = load(file);
  const fn = cfg.hooks && cfg.hooks[row] && cfg.hooks[row][point];
  if (typeof fn !== 'function') fail(`${file}: hooks.${row}.${point} is not a function`);
  const input = JSON.parse(await readStdin());
  const result = fn.length >= 2 ? await fn(input.data, client(input.directus || {}))
    : await fn(input.data);
  if (result === undefined) {
    fail(`${file}: hooks.${row}.${point} returned nothing (a hook returns the data)`);
  }
  process.stdout.write(JSON.stringify(result));
}

const [cmd, file, row, point] = process.argv.slice(2);
if (cmd === 'options' && file) {
  process.stdout.write(JSON.stringify({ config: plain(load(file), 0) }));
} else if (cmd === 'call' && file && row && point) {
  call(file, row, point).catch((e) => fail(`${file}: hooks.${row}.${point}: ${e && e.message ? e.message : e}`));
} else {
  fail('usage: hook-bridge.cjs options FILE | call FILE ROW POINT');
}
