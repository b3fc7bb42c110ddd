#!/usr/bin/env node
// tests/lib/seed.mjs: seed a Directus 11 or 12 instance with configuration
// touching all 11 collections synced by directus-sync, plus a schema with
// relations.
//
//   node tests/lib/seed.mjs --url URL --token TOKEN [--scale N] [--rules full|core]
//       [--translations N] [--quiet]
//
// --rules core seeds what Directus 12's Core license (no license key) allows:
// permissions without custom rules (fields "*", no filter, validation or
// presets), at most 5 active flows, at most 25 user collections. The default
// is core on Directus 12 and later, full (the rules as written) before it.
// --translations N adds N translations (half en-US, half de-DE): items that
// need no collection, for a large configuration within the Core limits.
//
// Node >= 20 (built-in fetch), no dependencies. Names are deterministic; ids are
// whatever the server generates, so two seeded instances hold the same
// configuration under different local ids. --scale 1 (default) is the small
// fixture; --scale N adds N-1 "bench" units (about 100 items each).
// Any failed request aborts with exit 1 and prints method, path, status and body.

import { performance } from 'node:perf_hooks';

// ------------------------------------------------------------------ arguments
function usage(msg) {
  if (msg) process.stderr.write(`seed.mjs: ${msg}\n`);
  process.stderr.write('usage: node seed.mjs --url URL --token TOKEN [--scale N] [--rules full|core] [--translations N] [--quiet]\n');
  process.exit(2);
}
const opts = { url: process.env.DX_URL, token: process.env.DX_TOKEN, scale: 1, rules: null, translations: 0, quiet: false };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const [k, inline] = a[i].split(/=(.*)/s, 2);
    const val = () => (inline !== undefined ? inline : a[++i]);
    switch (k) {
      case '--url': opts.url = val(); break;
      case '--token': opts.token = val(); break;
      case '--scale': opts.scale = Number(val()); break;
      case '--rules': opts.rules = val(); break;
      case '--translations': opts.translations = Number(val()); break;
      case '--quiet': opts.quiet = true; break;
      case '-h': case '--help': usage();
      default: usage(`unknown argument ${a[i]}`);
    }
  }
  if (!opts.url) usage('--url is required (or DX_URL)');
  if (!opts.token) usage('--token is required (or DX_TOKEN)');
  if (!Number.isInteger(opts.scale) || opts.scale < 1 || opts.scale > 1000) usage('--scale must be an integer >= 1');
  if (opts.rules !== null && opts.rules !== 'full' && opts.rules !== 'core') usage('--rules must be full or core');
  if (!Number.isInteger(opts.translations) || opts.translations < 0) usage('--translations must be an integer >= 0');
  opts.url = opts.url.replace(/\/+$/, '');
}
const log = (...m) => { if (!opts.quiet) process.stderr.write(`seed: ${m.join(' ')}\n`); };

// ------------------------------------------------------------------ HTTP
class RequestError extends Error {}
let requestCount = 0;
async function api(method, path, body) {
  requestCount++;
  let res;
  try {
    res = await fetch(opts.url + path, {
      method,
      headers: { Authorization: `Bearer ${opts.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new RequestError(`${method} ${path}: request failed: ${e.cause?.message ?? e.message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    throw new RequestError(`${method} ${path} -> HTTP ${res.status}\n${text.slice(0, 4000)}`);
  }
  if (!text) return null;
  try {
    return JSON.parse(text).data;
  } catch {
    throw new RequestError(`${method} ${path} -> HTTP ${res.status}: response is not JSON\n${text.slice(0, 2000)}`);
  }
}

// Run async thunks with at most n in flight.
async function pool(n, thunks) {
  const out = new Array(thunks.length);
  let next = 0;
  async function worker() {
    while (next < thunks.length) {
      const i = next++;
      out[i] = await thunks[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, thunks.length) }, worker));
  return out;
}
const CONCURRENCY = 4;
const CHUNK = 200;

const counts = {};
const count = (k, n) => { counts[k] = (counts[k] ?? 0) + n; };

// Batch create (POST with an array), chunked; returns the created rows.
async function createMany(path, items, countAs, fields = 'id') {
  if (!items.length) return [];
  const chunks = [];
  for (let i = 0; i < items.length; i += CHUNK) chunks.push(items.slice(i, i + CHUNK));
  const sep = path.includes('?') ? '&' : '?';
  const res = await pool(CONCURRENCY, chunks.map((c) => () => api('POST', `${path}${sep}fields=${fields}`, c)));
  const rows = res.flat();
  if (countAs) count(countAs, items.length);
  return rows;
}
// Batch update (PATCH with an array of {id, ...}).
async function updateMany(path, items) {
  const chunks = [];
  for (let i = 0; i < items.length; i += CHUNK) chunks.push(items.slice(i, i + CHUNK));
  await pool(CONCURRENCY, chunks.map((c) => () => api('PATCH', `${path}?fields=id`, c)));
}
function byName(rows, key = 'name') {
  const m = new Map();
  for (const r of rows) m.set(r[key], r.id);
  return m;
}
const must = (m, k) => {
  if (!m.has(k)) throw new Error(`internal: no id for ${k}`);
  return m.get(k);
};

const pad = (k) => String(k).padStart(2, '0');
const PUBLIC_POLICY = 'abf8a154-5b1c-4a46-ac9c-7300570f4f17';
const units = Array.from({ length: opts.scale - 1 }, (_, i) => i + 2); // bench units 2..N
// Directus 12's Core license (set in main from the instance's version).
let core = false;
const CORE_COLLECTIONS = 25;
// A permission as the Core license takes it: every field, no rules.
const coreFit = (p) => ({ policy: p.policy, collection: p.collection, action: p.action, fields: ['*'], permissions: null, validation: null, presets: null });

// ------------------------------------------------------------------ schema
const f = {
  pkInt: () => ({ field: 'id', type: 'integer', meta: { hidden: true, readonly: true, interface: 'input' }, schema: { is_primary_key: true, has_auto_increment: true } }),
  pkUuid: () => ({ field: 'id', type: 'uuid', meta: { hidden: true, readonly: true, interface: 'input', special: ['uuid'] }, schema: { is_primary_key: true, length: 36, has_auto_increment: false } }),
  string: (field, extra = {}) => ({ field, type: 'string', meta: { interface: 'input', ...(extra.meta ?? {}) }, schema: { ...(extra.schema ?? {}) } }),
  of: (field, type, iface, extra = {}) => ({ field, type, meta: { interface: iface, ...(extra.meta ?? {}) }, schema: { ...(extra.schema ?? {}) } }),
};

function fixtureCollections() {
  return [
    { collection: 'blog', meta: { icon: 'folder', note: 'Blog content — Inhalte', collapse: 'open', sort: 1 }, schema: null },
    { collection: 'Profile', meta: { icon: 'folder', note: 'folder whose lower-cased name clashes with the table profile', sort: 3 }, schema: null },
    {
      collection: 'authors',
      meta: { icon: 'person', group: 'blog', sort: 1, display_template: '{{name}}', note: 'Autoren — 著者' },
      schema: {},
      fields: [
        f.pkUuid(),
        f.string('name', { meta: { required: true, sort: 2 }, schema: { is_nullable: false } }),
        f.string('email', { meta: { sort: 3 }, schema: { is_unique: true } }),
        f.of('bio', 'text', 'input-multiline', { meta: { sort: 4 } }),
        f.of('active', 'boolean', 'boolean', { meta: { special: ['cast-boolean'], sort: 5 }, schema: { default_value: true } }),
        f.of('birth_year', 'integer', 'input', { meta: { sort: 6 } }),
        f.of('profile', 'json', 'input-code', { meta: { special: ['cast-json'], options: { language: 'JSON' }, sort: 7 } }),
        f.of('date_created', 'timestamp', 'datetime', { meta: { special: ['date-created'], readonly: true, hidden: true, sort: 8 } }),
        { field: 'articles', type: 'alias', meta: { interface: 'list-o2m', special: ['o2m'], sort: 9, options: { template: '{{title}}' } } },
      ],
    },
    {
      collection: 'articles',
      meta: {
        icon: 'article', group: 'blog', sort: 2, display_template: '{{title}}', archive_field: 'status', archive_value: 'archived', unarchive_value: 'draft',
        translations: [{ language: 'de-DE', translation: 'Artikel', singular: 'Artikel', plural: 'Artikel' }, { language: 'ja-JP', translation: '記事', singular: '記事', plural: '記事' }],
      },
      schema: {},
      fields: [
        f.pkInt(),
        f.of('status', 'string', 'select-dropdown', {
          meta: { width: 'half', sort: 2, options: { choices: [{ text: 'Published', value: 'published' }, { text: 'Draft', value: 'draft' }, { text: 'Archived', value: 'archived' }] } },
          schema: { default_value: 'draft', is_nullable: false },
        }),
        f.string('title', {
          meta: { sort: 3, required: true, note: 'Überschrift — 日本語', translations: [{ language: 'de-DE', translation: 'Überschrift' }, { language: 'ja-JP', translation: '見出し' }, { language: 'fr-FR', translation: 'Titre « principal »' }] },
        }),
        f.string('slug', { meta: { sort: 4, options: { slug: true } }, schema: { is_unique: true } }),
        f.of('body', 'text', 'input-rich-text-html', { meta: { sort: 5 } }),
        f.of('word_count', 'integer', 'input', { meta: { sort: 6, width: 'half' }, schema: { default_value: 0 } }),
        f.of('rating', 'float', 'input', { meta: { sort: 7, width: 'half' } }),
        f.of('price', 'decimal', 'input', { meta: { sort: 8 }, schema: { numeric_precision: 10, numeric_scale: 2 } }),
        f.of('featured', 'boolean', 'boolean', { meta: { special: ['cast-boolean'], sort: 9 }, schema: { default_value: false } }),
        f.of('metadata', 'json', 'input-code', { meta: { special: ['cast-json'], sort: 10 } }),
        f.of('external_id', 'uuid', 'input', { meta: { sort: 11 } }),
        f.of('published_at', 'timestamp', 'datetime', { meta: { sort: 12 } }),
        f.of('publish_date', 'date', 'datetime', { meta: { sort: 13 } }),
        f.of('author', 'uuid', 'select-dropdown-m2o', { meta: { special: ['m2o'], sort: 14, options: { template: '{{name}}' } } }),
        { field: 'tags', type: 'alias', meta: { interface: 'list-m2m', special: ['m2m'], sort: 15 } },
        { field: 'seo', type: 'alias', meta: { interface: 'group-detail', special: ['alias', 'no-data', 'group'], sort: 16, options: { start: 'closed' } } },
        f.string('seo_title', { meta: { group: 'seo', sort: 1 } }),
        f.of('seo_description', 'text', 'input-multiline', { meta: { group: 'seo', sort: 2, note: 'Beschreibung für Suchmaschinen' } }),
      ],
    },
    {
      collection: 'tags',
      meta: { icon: 'label', group: 'blog', sort: 3 },
      schema: {},
      fields: [
        { field: 'id', type: 'string', meta: { interface: 'input', readonly: false, hidden: false }, schema: { is_primary_key: true, length: 64, has_auto_increment: false } },
        f.string('label', { meta: { sort: 2 } }),
        f.string('color', { meta: { interface: 'select-color', sort: 3 }, schema: { default_value: '#888888' } }),
      ],
    },
    {
      collection: 'articles_tags',
      meta: { hidden: true, icon: 'import_export', group: 'blog', sort: 4 },
      schema: {},
      fields: [f.pkInt(), f.of('articles_id', 'integer', null, { meta: { hidden: true } }), f.of('tags_id', 'string', null, { meta: { hidden: true } })],
    },
    {
      collection: 'profile',
      meta: { icon: 'badge', sort: 2 },
      schema: {},
      fields: [
        f.pkInt(),
        f.string('content', { meta: { sort: 2 } }),
        { field: 'Content', type: 'alias', meta: { interface: 'group-raw', special: ['alias', 'no-data', 'group'], sort: 3, note: 'alias whose lower-cased name clashes with content' } },
      ],
    },
  ];
}
const fixtureRelations = () => [
  { collection: 'articles', field: 'author', related_collection: 'authors', meta: { one_field: 'articles', one_deselect_action: 'nullify' }, schema: { on_delete: 'SET NULL' } },
  { collection: 'articles_tags', field: 'articles_id', related_collection: 'articles', meta: { one_field: 'tags', junction_field: 'tags_id', one_deselect_action: 'nullify' }, schema: { on_delete: 'SET NULL' } },
  { collection: 'articles_tags', field: 'tags_id', related_collection: 'tags', meta: { one_field: null, junction_field: 'articles_id', one_deselect_action: 'nullify' }, schema: { on_delete: 'SET NULL' } },
];

function benchCollections() {
  if (!units.length) return [];
  const out = [{ collection: 'bench', meta: { icon: 'folder', note: 'benchmark collections', sort: 10, collapse: 'closed' }, schema: null }];
  for (const k of units) {
    const p = `bench_${pad(k)}`;
    out.push({
      collection: `${p}_orders`, meta: { icon: 'shopping_cart', group: 'bench', sort: k * 2, note: `Bestellungen ${k}` }, schema: {},
      fields: [
        f.pkInt(), f.string('code', { schema: { is_unique: true } }), f.string('title'),
        f.of('qty', 'integer', 'input', { schema: { default_value: 1 } }),
        f.of('amount', 'decimal', 'input', { schema: { numeric_precision: 12, numeric_scale: 2 } }),
        f.of('paid', 'boolean', 'boolean', { meta: { special: ['cast-boolean'] }, schema: { default_value: false } }),
        f.of('notes', 'text', 'input-multiline'), f.of('payload', 'json', 'input-code', { meta: { special: ['cast-json'] } }),
        f.of('ref', 'uuid', 'input'), f.of('created', 'timestamp', 'datetime', { meta: { special: ['date-created'] } }),
        { field: 'lines', type: 'alias', meta: { interface: 'list-o2m', special: ['o2m'] } },
      ],
    });
    out.push({
      collection: `${p}_lines`, meta: { icon: 'list', group: 'bench', sort: k * 2 + 1 }, schema: {},
      fields: [
        f.pkInt(), f.of('order', 'integer', 'select-dropdown-m2o', { meta: { special: ['m2o'] } }),
        f.string('sku'), f.of('qty', 'integer', 'input', { schema: { default_value: 1 } }), f.of('price', 'float', 'input'),
        f.of('note', 'text', 'input-multiline', { meta: { note: `Zeile ${k} — 行` } }), f.of('flags', 'json', 'tags', { meta: { special: ['cast-json'] } }),
        f.of('active', 'boolean', 'boolean', { meta: { special: ['cast-boolean'] }, schema: { default_value: true } }),
        f.string('label'), f.of('day', 'date', 'datetime'),
      ],
    });
  }
  return out;
}
const benchRelations = () => units.map((k) => ({
  collection: `bench_${pad(k)}_lines`, field: 'order', related_collection: `bench_${pad(k)}_orders`,
  meta: { one_field: 'lines', one_deselect_action: 'nullify' }, schema: { on_delete: 'SET NULL' },
}));

async function seedSchema() {
  const cols = [...fixtureCollections(), ...benchCollections()];
  // one batch request (created in array order: folder groups first); schema
  // changes stay sequential (SQLite)
  const t = performance.now();
  await api('POST', '/collections?fields=collection', cols);
  count('collections', cols.length);
  count('fields', cols.reduce((n, c) => n + (c.fields ?? []).length, 0));
  log(`collections ${((performance.now() - t) / 1000).toFixed(1)}s`);
  for (const r of [...fixtureRelations(), ...benchRelations()]) {
    await api('POST', '/relations', r);
    count('relations', 1);
  }
}

// ------------------------------------------------------------------ folders
async function seedFolders() {
  const parents = [{ name: 'Media' }, { name: 'Documents — Dokumente' }, ...units.map((k) => ({ name: `Bench ${pad(k)}` }))];
  const p = byName(await createMany('/folders', parents, 'folders', 'id,name'));
  const children = [
    { name: 'Images', parent: must(p, 'Media') },
    { name: 'Videos', parent: must(p, 'Media') },
    ...units.flatMap((k) => [{ name: `Bench ${pad(k)} / a`, parent: must(p, `Bench ${pad(k)}`) }, { name: `Bench ${pad(k)} / b`, parent: must(p, `Bench ${pad(k)}`) }]),
  ];
  const c = byName(await createMany('/folders', children, 'folders', 'id,name'));
  return { images: must(c, 'Images') };
}

// ------------------------------------------------------------------ translations
async function seedTranslations() {
  const t = [
    ['title', { 'en-US': 'Title', 'de-DE': 'Überschrift', 'fr-FR': 'Titre', 'ja-JP': '見出し' }],
    ['publish', { 'en-US': 'Publish', 'de-DE': 'Veröffentlichen', 'fr-FR': 'Publier', 'ja-JP': '公開する' }],
    ['greeting', { 'en-US': 'Hello', 'de-DE': 'Grüß Gott — こんにちは', 'fr-FR': 'Bonjour « à tous »' }],
    ['site_name', { 'en-US': 'dsync test site', 'de-DE': 'dsync Testseite' }],
  ];
  const items = t.flatMap(([key, vals]) => Object.entries(vals).map(([language, value]) => ({ language, key, value })));
  for (const k of units) {
    for (let i = 1; i <= 15; i++) {
      items.push({ language: 'en-US', key: `bench.${pad(k)}.key${pad(i)}`, value: `Bench ${k} text ${i}` });
      items.push({ language: 'de-DE', key: `bench.${pad(k)}.key${pad(i)}`, value: `Bank ${k} Text ${i} — äöü` });
    }
  }
  for (let i = 1; i <= opts.translations; i++)
    items.push({ language: i % 2 ? 'en-US' : 'de-DE', key: `extra.key${String(Math.ceil(i / 2)).padStart(5, '0')}`, value: `Extra text ${i} — äöü` });
  await createMany('/translations', items, 'translations');
}

// ------------------------------------------------------------------ roles, policies, access, users, permissions
async function seedAccess() {
  const r1 = byName(await createMany('/roles', [
    { name: 'Editor', icon: 'edit', description: 'Edits the blog — Redaktion' },
  ], 'roles', 'id,name'));
  const editor = must(r1, 'Editor');
  const r2 = byName(await createMany('/roles', [
    { name: 'Junior Editor', icon: 'school', description: 'Child role of Editor', parent: editor },
    ...units.map((k) => ({ name: `Bench role ${pad(k)}`, icon: 'speed', description: `bench unit ${k}`, parent: k % 2 ? editor : null })),
  ], 'roles', 'id,name'));
  const junior = must(r2, 'Junior Editor');
  const roles = new Map([...r1, ...r2]);

  const policies = [
    { name: 'Editor policy', icon: 'edit_note', description: 'Access for editors', app_access: true, admin_access: false, enforce_tfa: false, ip_access: null, roles: [{ role: editor, sort: 1 }] },
    { name: 'Contributor policy', icon: 'draw', description: 'Beiträge schreiben', app_access: true, admin_access: false, enforce_tfa: true, ip_access: ['127.0.0.1', '10.0.0.0/8'], roles: [{ role: junior, sort: 1 }, { role: editor, sort: 2 }] },
    { name: 'Reviewer policy', icon: 'rate_review', description: 'Linked to a role and to a user', app_access: false, admin_access: false, roles: [{ role: junior, sort: 2 }] },
    ...units.flatMap((k) => [
      { name: `Bench policy ${pad(k)} A`, icon: 'policy', description: `bench ${k}`, app_access: true, roles: [{ role: must(roles, `Bench role ${pad(k)}`), sort: 1 }] },
      { name: `Bench policy ${pad(k)} B`, icon: 'policy', description: `bench ${k}`, app_access: false, roles: [{ role: must(roles, `Bench role ${pad(k)}`), sort: 2 }] },
    ]),
  ];
  const pol = byName(await createMany('/policies', policies, 'policies', 'id,name'));
  count('access (role links)', policies.reduce((n, p) => n + p.roles.length, 0));

  // A role-less user attached to a policy through directus_access: user links
  // must not be dumped by directus-sync.
  const user = await api('POST', '/users?fields=id', { email: 'reviewer@example.com', first_name: 'Rita', last_name: 'Prüferin', status: 'active', role: null });
  count('users', 1);
  // sort 2, and no sort-1 row on this policy at all: directus-sync 3.4.1 takes
  // as public policy the first one having SOME access row with role null and
  // SOME row with sort 1 (or null); with sort 1 here it could pick this policy
  // (random uuid order), which makes reference dumps non-deterministic.
  await api('POST', '/access?fields=id', { user: user.id, policy: must(pol, 'Reviewer policy'), sort: 2 });
  count('access (user links)', 1);

  const editorP = must(pol, 'Editor policy');
  const contribP = must(pol, 'Contributor policy');
  const reviewP = must(pol, 'Reviewer policy');
  const perms = [
    { policy: editorP, collection: 'articles', action: 'create', fields: ['title', 'slug', 'body', 'status', 'author', 'tags', 'seo_title', 'seo_description'], presets: { status: 'draft' }, validation: { _and: [{ title: { _nempty: true } }] }, permissions: null },
    { policy: editorP, collection: 'articles', action: 'read', fields: ['*'], permissions: { _or: [{ status: { _eq: 'published' } }, { author: { active: { _eq: true } } }] }, validation: null, presets: null },
    { policy: editorP, collection: 'articles', action: 'update', fields: ['*'], permissions: { status: { _neq: 'archived' } }, validation: { word_count: { _gte: 0 } }, presets: null },
    { policy: editorP, collection: 'articles', action: 'delete', fields: null, permissions: { status: { _eq: 'draft' } }, validation: null, presets: null },
    { policy: editorP, collection: 'authors', action: 'read', fields: ['*'], permissions: {}, validation: null, presets: null },
    { policy: editorP, collection: 'tags', action: 'create', fields: ['*'], permissions: null, validation: { label: { _nnull: true } }, presets: { color: '#ff0000' } },
    { policy: editorP, collection: 'tags', action: 'read', fields: ['*'], permissions: {}, validation: null, presets: null },
    { policy: editorP, collection: 'articles_tags', action: 'create', fields: ['*'] },
    { policy: editorP, collection: 'articles_tags', action: 'read', fields: ['*'] },
    { policy: editorP, collection: 'articles_tags', action: 'delete' },
    { policy: editorP, collection: 'directus_files', action: 'read', fields: ['*'], permissions: {} },
    { policy: contribP, collection: 'articles', action: 'create', fields: ['title', 'body'], presets: { status: 'draft', featured: false } },
    { policy: contribP, collection: 'articles', action: 'read', fields: ['id', 'title', 'status'], permissions: { status: { _in: ['draft', 'published'] } } },
    { policy: contribP, collection: 'authors', action: 'read', fields: ['id', 'name'] },
    { policy: reviewP, collection: 'articles', action: 'read', fields: ['*'] },
    { policy: reviewP, collection: 'articles', action: 'update', fields: ['status'], validation: { status: { _in: ['published', 'archived'] } } },
    { policy: PUBLIC_POLICY, collection: 'articles', action: 'read', fields: ['id', 'title', 'slug', 'body', 'published_at'], permissions: { status: { _eq: 'published' } } },
    { policy: PUBLIC_POLICY, collection: 'tags', action: 'read', fields: ['id', 'label'], permissions: {} },
  ];
  const actions = ['create', 'read', 'update', 'delete'];
  const base = ['authors', 'articles', 'tags', 'articles_tags'];
  for (const k of units) {
    const A = must(pol, `Bench policy ${pad(k)} A`);
    const B = must(pol, `Bench policy ${pad(k)} B`);
    for (const c of [`bench_${pad(k)}_orders`, `bench_${pad(k)}_lines`]) {
      for (const action of actions) {
        perms.push({ policy: A, collection: c, action, fields: ['*'], permissions: action === 'create' ? null : { id: { _gt: k } } });
        perms.push({ policy: B, collection: c, action, fields: action === 'delete' ? null : ['id', 'qty'], presets: action === 'create' ? { qty: k } : null });
      }
    }
    for (const c of base) for (const action of ['read', 'update']) perms.push({ policy: B, collection: c, action, fields: ['*'], permissions: action === 'update' ? { id: { _nnull: true } } : {} });
  }
  await createMany('/permissions', core ? perms.map(coreFit) : perms, 'permissions');
  return { roles, editor, junior };
}

// ------------------------------------------------------------------ flows and operations
// Each flow: { name, ..., ops: [{key, name, type, options, resolve?: key, reject?: key}] };
// ops[0] is the flow's first operation. options.flow may be a flow NAME in
// flowRef (resolved to its id) or a literal template string.
function flowDefs() {
  const defs = [
    {
      name: 'Publish article', icon: 'publish', color: '#2ECDA7', description: 'Manual trigger — Veröffentlichen', status: 'active', trigger: 'manual', accountability: 'all',
      options: { collections: ['articles'], location: 'item', requireConfirmation: true, confirmationDescription: 'Publish this article?', fields: [{ field: 'note', type: 'string', name: 'Note', meta: { interface: 'input', width: 'full' } }] },
      ops: [
        { key: 'check_status', name: 'Check status', type: 'condition', options: { filter: { $trigger: { body: { status: { _eq: 'draft' } } } } }, resolve: 'set_published', reject: 'log_refused' },
        { key: 'set_published', name: 'Set published', type: 'item-update', options: { collection: 'articles', key: ['{{$trigger.body.keys[0]}}'], payload: { status: 'published' }, permissions: '$trigger', emitEvents: true }, resolve: 'log_published' },
        { key: 'log_published', name: 'Log published', type: 'log', options: { message: 'Article {{$trigger.body.keys}} published — 公開済み' }, resolve: 'call_notify' },
        { key: 'call_notify', name: 'Call notify sub-flow', type: 'trigger', flowRef: 'Notify editors', options: { payload: { article: '{{$trigger.body.keys[0]}}' }, iterationMode: 'serial' } },
        { key: 'log_refused', name: 'Log refused', type: 'log', options: { message: 'refused: not a draft' }, resolve: 'notify_user' },
        { key: 'notify_user', name: 'Notify user', type: 'notification', options: { recipient: ['{{$accountability.user}}'], subject: 'Not published', message: 'Only drafts can be published.' }, resolve: 'mail_admin' },
        { key: 'mail_admin', name: 'Mail admin', type: 'mail', options: { to: ['admin@example.com'], subject: 'Publish refused', body: 'Grüße — refused', type: 'markdown' } },
      ],
    },
    {
      name: 'On article change', icon: 'bolt', color: '#FFA439', description: 'Event hook', status: 'active', trigger: 'event', accountability: '$trigger',
      options: { type: 'action', scope: ['items.create', 'items.update'], collections: ['articles'] },
      ops: [
        { key: 'log_event', name: 'Log event', type: 'log', options: { message: '{{$trigger.event}} on {{$trigger.collection}}' }, resolve: 'read_author' },
        { key: 'read_author', name: 'Read author', type: 'item-read', options: { collection: 'authors', query: { limit: 1, fields: ['name'] } }, resolve: 'dispatch', reject: 'log_error' },
        { key: 'dispatch', name: 'Dispatch dynamically', type: 'trigger', options: { flow: '{{ $trigger.flow }}', payload: '{{$last}}' } },
        { key: 'log_error', name: 'Log error', type: 'log', options: { message: 'read failed: {{$last}}' } },
      ],
    },
    {
      name: 'Rebuild site', icon: 'webhook', color: '#3399FF', description: 'Webhook trigger', status: 'active', trigger: 'webhook', accountability: 'activity',
      options: { method: 'POST', async: true, return: '$last' },
      ops: [
        { key: 'transform', name: 'Transform', type: 'transform', options: { json: { site: 'main', body: '{{$trigger.body}}' } }, resolve: 'request' },
        { key: 'request', name: 'Call builder', type: 'request', options: { method: 'POST', url: 'http://127.0.0.1:9/build', headers: [{ header: 'X-Token', value: 'not-a-secret' }], body: '{{$last}}' }, resolve: 'sleep', reject: 'script' },
        { key: 'sleep', name: 'Wait', type: 'sleep', options: { milliseconds: 10 } },
        { key: 'script', name: 'Run script', type: 'exec', options: { code: 'module.exports = async function (data) {\n\treturn { failed: true };\n};' } },
      ],
    },
    {
      name: 'Notify editors', icon: 'notifications', color: null, description: 'Called by another flow', status: 'active', trigger: 'operation', accountability: 'all',
      options: { return: '$last' },
      ops: [
        { key: 'log_call', name: 'Log call', type: 'log', options: { message: 'called with {{$trigger}}' }, resolve: 'shape' },
        { key: 'shape', name: 'Shape result', type: 'transform', options: { json: { ok: true } } },
      ],
    },
    {
      name: 'Nightly cleanup', icon: 'schedule', color: '#A2B5CD', description: 'Schedule (inactive)', status: 'inactive', trigger: 'schedule', accountability: null,
      options: { cron: '0 3 * * *' },
      ops: [{ key: 'cleanup', name: 'Cleanup', type: 'exec', options: { code: 'module.exports = async () => ({});' } }],
    },
  ];
  for (const k of units) {
    for (const j of [1, 2]) {
      const name = `Bench flow ${pad(k)}.${j}`;
      const manual = j === 1;
      const ops = [];
      for (let i = 1; i <= 5; i++) {
        ops.push({
          key: `step_${i}`, name: `Step ${i}`, type: i === 1 ? 'condition' : i === 5 ? 'trigger' : 'log',
          options: i === 1 ? { filter: { $trigger: { body: { n: { _gt: k } } } } } : i === 5 ? { payload: { from: name } } : { message: `${name} step ${i}` },
          flowRef: i === 5 ? 'Notify editors' : undefined,
          resolve: i < 5 ? `step_${i + 1}` : undefined,
          reject: i === 1 ? 'on_reject' : undefined,
        });
      }
      ops.push({ key: 'on_reject', name: 'On reject', type: 'log', options: { message: 'rejected' } });
      defs.push({
        name, icon: 'bolt', color: null, description: `bench ${k}`, status: core || (j === 2 && k % 3 === 0) ? 'inactive' : 'active', trigger: manual ? 'manual' : 'webhook', accountability: 'all',
        options: manual ? { collections: [`bench_${pad(k)}_orders`], location: 'both', requireConfirmation: false } : { method: 'GET', async: false },
        ops,
      });
    }
  }
  return defs;
}

async function seedFlows() {
  const defs = flowDefs();
  const flowIds = byName(await createMany('/flows', defs.map(({ ops, ...fl }) => fl), 'flows', 'id,name'));
  // height of each op (leaf = 0), so every resolve/reject target exists before its source
  const all = [];
  for (const d of defs) {
    const byKey = new Map(d.ops.map((o) => [o.key, o]));
    const h = (o) => o.h ?? (o.h = 1 + Math.max(-1, ...[o.resolve, o.reject].filter(Boolean).map((k) => h(byKey.get(k)))));
    d.ops.forEach((o, i) => {
      h(o);
      o.flowName = d.name;
      o.index = i;
      all.push(o);
    });
  }
  const opId = new Map(); // "flow\0key" -> id
  const maxH = Math.max(...all.map((o) => o.h));
  for (let level = 0; level <= maxH; level++) {
    const batch = all.filter((o) => o.h === level).map((o) => {
      const options = { ...o.options };
      if (o.flowRef) options.flow = must(flowIds, o.flowRef);
      return {
        flow: must(flowIds, o.flowName), key: o.key, name: o.name, type: o.type, options,
        position_x: 19 + 18 * o.index, position_y: 1 + 18 * (o.index % 2),
        resolve: o.resolve ? must(opId, `${o.flowName}\0${o.resolve}`) : null,
        reject: o.reject ? must(opId, `${o.flowName}\0${o.reject}`) : null,
      };
    });
    const flowOf = new Map([...flowIds].map(([n, id]) => [id, n]));
    for (const r of await createMany('/operations', batch, 'operations', 'id,key,flow')) {
      opId.set(`${flowOf.get(r.flow)}\0${r.key}`, r.id);
    }
  }
  await updateMany('/flows', defs.map((d) => ({ id: must(flowIds, d.name), operation: must(opId, `${d.name}\0${d.ops[0].key}`) })));
}

// ------------------------------------------------------------------ dashboards and panels
async function seedDashboards() {
  const dashes = [
    { name: 'Editorial — Redaktion', icon: 'space_dashboard', note: 'Articles at a glance', color: '#6644FF' },
    { name: 'Operations', icon: 'monitoring', note: null, color: null },
    ...units.map((k) => ({ name: `Bench dashboard ${pad(k)}`, icon: 'speed', note: `bench ${k}`, color: null })),
  ];
  const d = byName(await createMany('/dashboards', dashes, 'dashboards', 'id,name'));
  const ed = must(d, 'Editorial — Redaktion');
  const ops = must(d, 'Operations');
  const panel = (dashboard, name, type, x, y, w, h, options, extra = {}) => ({ dashboard, name, type, position_x: x, position_y: y, width: w, height: h, show_header: true, icon: null, color: null, note: null, options, ...extra });
  const panels = [
    panel(ed, 'Articles', 'metric', 1, 1, 12, 6, { collection: 'articles', field: 'id', function: 'count', sortField: 'id' }, { icon: 'article', color: '#2ECDA7' }),
    panel(ed, 'Latest', 'list', 13, 1, 12, 10, { collection: 'articles', limit: 5, sortField: 'published_at', sortDirection: 'desc', displayTemplate: '{{title}}' }, { note: 'Neueste — 最新' }),
    panel(ed, 'Welcome', 'label', 1, 7, 12, 4, { text: 'Welcome — ようこそ', color: '#333333' }, { show_header: false }),
    panel(ops, 'Published per day', 'time-series', 1, 1, 24, 8, { collection: 'articles', dateField: 'published_at', valueField: 'id', function: 'count', precision: 'day', range: '1 week' }),
  ];
  for (const k of units) {
    const b = must(d, `Bench dashboard ${pad(k)}`);
    for (let i = 1; i <= 5; i++) {
      panels.push(panel(b, `Bench panel ${pad(k)}.${i}`, i % 2 ? 'metric' : 'label', 1 + 12 * ((i - 1) % 2), 1 + 6 * Math.floor((i - 1) / 2), 12, 6,
        i % 2 ? { collection: `bench_${pad(k)}_orders`, field: 'id', function: 'count' } : { text: `bench ${k} / ${i}` }));
    }
  }
  await createMany('/panels', panels, 'panels');
}

// ------------------------------------------------------------------ presets
async function seedPresets(roles) {
  const me = await api('GET', '/users/me?fields=id');
  const presets = [
    { bookmark: null, user: null, role: null, collection: 'articles', layout: 'tabular', layout_query: { tabular: { fields: ['title', 'status', 'author.name'], sort: ['-published_at'], page: 1, limit: 25 } }, layout_options: { tabular: { widths: { title: 320 } } }, icon: 'bookmark', color: null },
    { bookmark: 'Published — 公開済み', user: null, role: null, collection: 'articles', layout: 'cards', search: null, filter: { status: { _eq: 'published' } }, layout_query: { cards: { sort: ['title'] } }, icon: 'star', color: '#FFA439' },
    { bookmark: null, user: null, role: roles.editor, collection: 'articles', layout: 'tabular', layout_query: { tabular: { fields: ['title', 'status'], sort: ['title'] } }, refresh_interval: 60 },
    { bookmark: null, user: me.id, role: null, collection: 'authors', layout: 'tabular', layout_query: { tabular: { sort: ['name'] } }, search: 'personal — not dumped' },
  ];
  for (const k of units) {
    presets.push({ bookmark: null, user: null, role: null, collection: `bench_${pad(k)}_orders`, layout: 'tabular', layout_query: { tabular: { sort: ['-id'], limit: 50 } } });
    presets.push({ bookmark: null, user: null, role: must(roles.roles, `Bench role ${pad(k)}`), collection: `bench_${pad(k)}_lines`, layout: 'tabular', layout_query: { tabular: { fields: ['sku', 'qty'] } } });
    presets.push({ bookmark: `Bench bookmark ${pad(k)}`, user: null, role: null, collection: `bench_${pad(k)}_orders`, layout: 'tabular', filter: { paid: { _eq: true } } });
  }
  await createMany('/presets', presets, 'presets');
}

// ------------------------------------------------------------------ main
async function main() {
  const t0 = performance.now();
  const info = await api('GET', '/server/info');
  const major = Number(String(info?.version ?? '0').split('.')[0]);
  core = opts.rules ? opts.rules === 'core' : major >= 12;
  const ncoll = fixtureCollections().filter((c) => c.schema !== null).length + 2 * units.length;
  if (core && ncoll > CORE_COLLECTIONS) {
    throw new Error(`--scale ${opts.scale} makes ${ncoll} collections; the Core license allows ${CORE_COLLECTIONS} (--scale ${1 + Math.floor((CORE_COLLECTIONS - ncoll + 2 * units.length) / 2)} at most)`);
  }
  log(`${opts.url}: Directus ${info?.version ?? '?'}, scale ${opts.scale}, rules ${core ? 'core (no custom permission rules, bench flows inactive)' : 'full'}`);
  await seedSchema();
  log(`schema done (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
  const [access, folders] = await Promise.all([seedAccess(), seedFolders(), seedTranslations(), seedFlows(), seedDashboards()]);
  await seedPresets(access);
  await api('PATCH', '/settings?fields=id', {
    project_name: 'dsync fixture — Prüfstand',
    project_color: '#2ECDA7',
    project_descriptor: 'seeded by tests/lib/seed.mjs',
    public_registration_role: access.junior,
    storage_default_folder: folders.images,
    default_language: 'en-US',
    custom_css: '.dsync-fixture { color: #2ecda7; }',
    storage_asset_presets: [{ key: 'thumb-200', fit: 'cover', width: 200, height: 200, quality: 80, withoutEnlargement: true, format: 'webp' }],
  });
  count('settings', 1);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const sys = ['folders', 'translations', 'roles', 'policies', 'permissions', 'flows', 'operations', 'dashboards', 'panels', 'presets', 'settings'];
  const total = sys.reduce((n, k) => n + (counts[k] ?? 0), 0);
  const line = Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ');
  process.stdout.write(`seeded scale=${opts.scale} in ${secs}s (${requestCount} requests): ${line}; synced items=${total}\n`);
}

main().catch((e) => {
  process.stderr.write(`seed.mjs: ${e instanceof RequestError ? e.message : e.stack ?? e}\n`);
  process.exit(1);
});
