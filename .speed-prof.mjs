import pg from 'pg';
import { omoi, pgBoss } from './bench/run-claim.bench.js';
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' }); await admin.connect();
const side = process.argv[2];
const t0 = process.cpuUsage(); const w = performance.now();
const rate = side === 'omoi' ? await omoi(admin) : await pgBoss(admin);
const c = process.cpuUsage(t0);
console.log(side, rate.toFixed(0), '/s; node cpu ms', ((c.user + c.system) / 1000).toFixed(0), 'wall ms', (performance.now() - w).toFixed(0));
await admin.end();
