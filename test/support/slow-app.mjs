#!/usr/bin/env node
// A stand-in for a slow-starting Zope/Plone instance, for tests, the demo and benchmarks (plain Node, no deps).
//
// Settings come from the environment or from --kebab-case arguments (arguments win):
//   PORT             port on 127.0.0.1 (required; 0: one the kernel picks, named in the log; HOST to change the address)
//   LISTEN_DELAY_MS  open the port only after this long (a Zope boot), default 0
//   COLD_MS          how long each site request takes while cold, default 1000
//   WARM_AFTER       site requests answered before the app is warm, default 3
//   COLD_CPU=1       a cold site request burns COLD_MS of CPU time (busy, so slower when cores are shared) instead of waiting
//   SITE_PATH        the site path, default /site (any path under it is the site too)
//   NEVER_WARM=1     the site path always answers 503
//   HANG=1           accept connections, never answer anything
//   EXIT_DELAY_MS    on SIGTERM, stop listening at once but exit only this long after (a Zope takes seconds)
// Paths: /health → 200 at once, always; /pid → the process id; the site path → 200 with a small HTML page.
// Logs go to stderr only: under supervisord, stdout may be a protocol channel.

import { createServer } from 'node:http';

function settings(argv, env) {
  const s = { ...env };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(argv[i]);
    if (m === null) throw new Error(`unexpected argument ${argv[i]}`);
    const key = m[1].toUpperCase().replace(/-/g, '_');
    s[key] = m[2] ?? argv[++i] ?? '';
  }
  return s;
}

function int(s, key, dflt) {
  const raw = s[key];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new Error(`${key} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

const log = (msg) => process.stderr.write(`slow-app pid=${process.pid} ${msg}\n`);

let cfg;
try {
  const s = settings(process.argv.slice(2), process.env);
  cfg = {
    host: s.HOST || '127.0.0.1',
    port: int(s, 'PORT', -1),
    listenDelayMs: int(s, 'LISTEN_DELAY_MS', 0),
    coldMs: int(s, 'COLD_MS', 1000),
    warmAfter: int(s, 'WARM_AFTER', 3),
    coldCpu: s.COLD_CPU === '1',
    sitePath: s.SITE_PATH || '/site',
    neverWarm: s.NEVER_WARM === '1',
    hang: s.HANG === '1',
    exitDelayMs: int(s, 'EXIT_DELAY_MS', 0),
  };
  if (cfg.port < 0) throw new Error('PORT is required');
} catch (e) {
  log(`config error: ${e.message}`);
  process.exit(2);
}

let served = 0; // site requests answered so far; the app is warm once this reaches WARM_AFTER
const timers = new Set();

const later = (ms, fn) => {
  const t = setTimeout(() => {
    timers.delete(t);
    fn();
  }, ms);
  timers.add(t);
};

/** Keeps this process busy until it has used `ms` more of CPU time (user + system), however long that takes. */
function burnCpu(ms) {
  const start = process.cpuUsage();
  const used = () => {
    const d = process.cpuUsage(start);
    return (d.user + d.system) / 1000;
  };
  let x = 0;
  while (used() < ms) for (let i = 0; i < 100_000; i++) x = (x * 31 + i) % 1_000_003;
  return x;
}

const isSite = (path) => path === cfg.sitePath || path.startsWith(`${cfg.sitePath}/`);

const server = createServer((req, res) => {
  if (cfg.hang) return;
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
  } else if (path === '/pid') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`${process.pid}\n`);
  } else if (isSite(path)) {
    if (cfg.neverWarm) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('still warming up\n');
      return;
    }
    const cold = served < cfg.warmAfter;
    if (cold && cfg.coldCpu) burnCpu(cfg.coldMs);
    later(cold && !cfg.coldCpu ? cfg.coldMs : 0, () => {
      served++;
      const body = `<!doctype html><html><head><title>slow-app</title></head><body><h1>${path}</h1><p>pid ${process.pid}, request ${served}${cold ? ', cold' : ''}</p></body></html>\n`;
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'X-Slow-App': cold ? 'cold' : 'warm' }).end(body);
    });
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }
});

server.on('error', (e) => {
  log(`server error: ${e.message}`);
  process.exit(1);
});

later(cfg.listenDelayMs, () =>
  server.listen(cfg.port, cfg.host, () => log(`listening on ${cfg.host}:${server.address().port} cold_ms=${cfg.coldMs} warm_after=${cfg.warmAfter}`)),
);

const shutdown = (signal) => {
  log(`${signal}: exiting`);
  for (const t of timers) clearTimeout(t);
  server.close();
  server.closeAllConnections();
  setTimeout(() => process.exit(0), cfg.exitDelayMs);
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
