// tree-keys.mjs A B: the keys whose values differ between two dump trees'
// JSON files, one word per kind: "DIR:KEY" for the snapshot's files
// (snapshot/collections/x.json -> "collections:meta.status"), "FILE:KEY"
// for the collections' items (settings.json's "accepted_terms" ->
// "settings:accepted_terms"), sorted and unique. Files only one side has
// are named as "+PATH" or "-PATH". For the differences between the trees
// of two Directus versions.
import fs from 'node:fs';
import path from 'node:path';

const [a, b] = process.argv.slice(2);
const files = (root) => {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(path.join(root, d), { withFileTypes: true })) {
      const rel = path.join(d, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.json') && !rel.startsWith('specs')) out.push(rel);
    }
  };
  walk('');
  return out;
};
const words = new Set();
const differ = (x, y, prefix, label, depth) => {
  const isObj = (v) => v && typeof v === 'object' && !Array.isArray(v);
  if (depth < 2 && isObj(x) && isObj(y)) {
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)]))
      differ(x[k], y[k], prefix ? `${prefix}.${k}` : k, label, depth + 1);
  } else if (JSON.stringify(x) !== JSON.stringify(y)) words.add(`${label}:${prefix}`);
};
const fa = new Set(files(a)), fb = new Set(files(b));
for (const f of new Set([...fa, ...fb])) {
  if (!fa.has(f)) { words.add(`+${f}`); continue; }
  if (!fb.has(f)) { words.add(`-${f}`); continue; }
  const x = JSON.parse(fs.readFileSync(path.join(a, f))), y = JSON.parse(fs.readFileSync(path.join(b, f)));
  const parts = f.split(path.sep);
  const label = parts[0] === 'snapshot' ? (parts.length > 2 ? parts[1] : 'info') : path.basename(f, '.json');
  if (Array.isArray(x) && Array.isArray(y)) {
    if (x.length !== y.length) { words.add(`${label}:length`); continue; }
    x.forEach((v, i) => differ(v, y[i], '', label, 0));
  } else differ(x, y, '', label, 0);
}
console.log([...words].sort().join(' '));
