// Rewrites a policies.json written by directus-sync 3.4.1 into the 3.5
// form that dsync writes: each roles element becomes {role, user, sort}
// with user null, and the 3.4.1 form of a user link ({"role": null}
// outside the public policy) is dropped. Nothing else is touched.
import fs from 'node:fs';

const file = process.argv[2];
const sortJson = process.argv[3] === '--sort-json';
const items = JSON.parse(fs.readFileSync(file, 'utf8'));
for (const p of items) {
	if (!Array.isArray(p.roles)) continue;
	const out = [];
	for (const a of p.roles) {
		if (a.role === null && p._syncId !== '_sync_default_public_policy') continue;
		const e = sortJson ? { role: a.role, sort: a.sort, user: null }
			: { role: a.role, user: null, sort: a.sort };
		out.push(e);
	}
	p.roles = out;
}
fs.writeFileSync(file, JSON.stringify(items, null, 2) + '\n');
