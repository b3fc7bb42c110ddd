// Compares two dump trees as a user would after a round trip through
// another instance. Collection files must be byte-identical. Snapshot
// files are matched by what they describe (collection, field) rather
// than by name, because the "_2" suffixes of names that clash in case
// follow the instance's API order; and a 36-character char column equals
// a varchar one (Directus on SQLite stores a uuid field created by
// /fields as char, by /schema/apply as varchar). specs/ is ignored.
// Prints the differences; exit status 1 when there are any.
import fs from 'node:fs';
import path from 'node:path';

const [a, b] = process.argv.slice(2);
const diffs = [];

function files(root, rel = '') {
	const dir = path.join(root, rel);
	if (!fs.existsSync(dir)) return [];
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
		e.isDirectory() ? files(root, path.join(rel, e.name)) : [path.join(rel, e.name)]);
}

for (const f of new Set([...files(a, 'collections'), ...files(b, 'collections')])) {
	const x = path.join(a, f), y = path.join(b, f);
	if (!fs.existsSync(x) || !fs.existsSync(y)) { diffs.push(`only in one tree: ${f}`); continue; }
	if (!fs.readFileSync(x).equals(fs.readFileSync(y))) {
		const xa = JSON.parse(fs.readFileSync(x, 'utf8')), ya = JSON.parse(fs.readFileSync(y, 'utf8'));
		const xi = new Map(xa.map((i) => [i._syncId, JSON.stringify(i)]));
		const yi = new Map(ya.map((i) => [i._syncId, JSON.stringify(i)]));
		for (const [k, v] of xi) if (yi.get(k) !== v) diffs.push(`${f}: ${k}: ${v} != ${yi.get(k)}`);
		for (const k of yi.keys()) if (!xi.has(k)) diffs.push(`${f}: ${k} only in the second tree`);
		if (diffs.length === 0) diffs.push(`${f}: same items, different bytes`);
	}
}

function snapshot(root) {
	const m = new Map();
	for (const f of files(root, 'snapshot')) {
		const v = JSON.parse(fs.readFileSync(path.join(root, f), 'utf8'));
		const kind = f.split(path.sep)[1];
		const key = kind.endsWith('.json') ? kind : `${kind}:${v.collection}/${v.field ?? ''}`;
		const s = v.schema;
		if (s && s.max_length === 36 && s.data_type === 'char') s.data_type = 'varchar';
		m.set(key, JSON.stringify(v));
	}
	return m;
}
const sa = snapshot(a), sb = snapshot(b);
for (const [k, v] of sa) if (sb.get(k) !== v) diffs.push(`snapshot ${k}: differs${sb.has(k) ? '' : ' (missing in the second tree)'}`);
for (const k of sb.keys()) if (!sa.has(k)) diffs.push(`snapshot ${k}: only in the second tree`);

for (const d of diffs.slice(0, 30)) console.error(d);
process.exit(diffs.length ? 1 : 0);
