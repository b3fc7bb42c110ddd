// metrics.mjs: a scrape of dsyncd's /metrics beside dsyncctl status --json.
//   node metrics.mjs value SCRAPE 'NAME{LABELS}'   prints the sample's value
//   node metrics.mjs sum SCRAPE NAME               the sum of a family's samples
//   node metrics.mjs match SCRAPE STATUS_JSON      exits 1, naming each
//     sample that disagrees with status (state, paused, conflicts, pending,
//     info's url and Directus version)
import { readFileSync } from "node:fs";

function parse(text) {
	const m = new Map();
	for (const line of text.split("\n")) {
		if (line === "" || line.startsWith("#")) continue;
		const sp = line.lastIndexOf(" ");
		m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
	}
	return m;
}

const [cmd, file, arg] = process.argv.slice(2);
const samples = parse(readFileSync(file, "utf8"));
if (cmd === "value") {
	if (!samples.has(arg)) {
		console.error(`no sample ${arg}`);
		process.exit(1);
	}
	console.log(samples.get(arg));
} else if (cmd === "sum") {
	let n = 0;
	for (const [k, v] of samples)
		if (k === arg || k.startsWith(arg + "{")) n += v;
	console.log(n);
} else if (cmd === "match") {
	const d = JSON.parse(readFileSync(arg, "utf8"));
	const bad = [];
	const want = (k, v) => {
		if (samples.get(k) !== v) bad.push(`${k} is ${samples.get(k)}, status says ${v}`);
	};
	for (const s of ["in-sync", "pending", "drifted", "conflict", "syncing", "paused", "degraded", "error"])
		want(`dsync_state{state="${s}"}`, d.state === s ? 1 : 0);
	want("dsync_paused", d.paused ? 1 : 0);
	want("dsync_conflicts", (d.conflicts || []).length);
	for (const [k, v] of samples) {
		const p = /^dsync_pending\{collection="(.*)"\}$/.exec(k);
		if (p && v !== (d.pending[p[1]] || 0)) bad.push(`${k} is ${v}, status says ${d.pending[p[1]] || 0}`);
	}
	for (const c of Object.keys(d.pending))
		if (!samples.has(`dsync_pending{collection="${c}"}`)) bad.push(`no dsync_pending for ${c}`);
	const info = [...samples.keys()].find((k) => k.startsWith("dsync_info{"));
	const ver = d.directus.version || "";
	if (!info || !info.includes(`url="${d.directus.url}"`) || !info.includes(`directus_version="${ver}"`))
		bad.push(`dsync_info ${info} does not name ${d.directus.url} and ${ver}`);
	if (bad.length) {
		console.error(bad.join("\n"));
		process.exit(1);
	}
} else {
	console.error("usage: metrics.mjs value|sum|match SCRAPE ARG");
	process.exit(2);
}
