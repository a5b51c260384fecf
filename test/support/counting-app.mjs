#!/usr/bin/env node
// An app instance that records every visitor request and whether it was cold, for reload tests and the chaos benchmark.
//
// Visitors come through HAProxy, whose frontend adds X-Forwarded-For (`option forwardfor`); the listener's
// warm-up probe and HAProxy's health checks go straight to the instance without it. That header is how a
// visitor is told from a probe, whatever the timing.
//
// Environment (plain Node, no deps):
//   PORT           port on 127.0.0.1 (required)
//   NAME           instance name, used for the file names below (required)
//   STATE_DIR      directory of the control and record files (required)
//   LISTEN_DELAY_MS  open the port only after this long (a boot), default 0
//   WARM_AFTER_MS  the site is cold for this long after the port opens, default 0
//   COLD_STATUS    status of a site request while cold, default 503
//   COLD_DELAY_MS  a cold site request is answered after this long, default 0
//   SITE_PATH      the site path (and anything under it), default /site
//   EXIT_AFTER_MS  with the file STATE_DIR/NAME.crash present at start: exit 1 this long after the port opens
//                  (a process that dies before supervisord's startsecs), default 1000
// Cold also while the file STATE_DIR/NAME.cold exists (a test keeps an instance cold as long as it likes),
// and, for a process that found STATE_DIR/NAME.cold-next when its port opened, while that file exists (the
// next process of an instance is cold while the one serving now stays warm).
// Every visitor request appends `pid cold|warm path` to STATE_DIR/NAME.visits. `/` answers 200 at once,
// always (the health check); GET /_counts (no header) answers this process's counts as JSON.
// Logs go to stderr only: under supervisord, stdout may be a protocol channel.

import { appendFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const env = process.env;
const num = (key, dflt) => {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new Error(`${key} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
};
const log = (msg) => process.stderr.write(`counting-app pid=${process.pid} ${msg}\n`);

let cfg;
try {
  cfg = {
    port: num('PORT', -1),
    name: env.NAME ?? '',
    dir: env.STATE_DIR ?? '',
    listenDelayMs: num('LISTEN_DELAY_MS', 0),
    warmAfterMs: num('WARM_AFTER_MS', 0),
    coldStatus: num('COLD_STATUS', 503),
    coldDelayMs: num('COLD_DELAY_MS', 0),
    sitePath: env.SITE_PATH || '/site',
    exitAfterMs: num('EXIT_AFTER_MS', 1000),
  };
  if (cfg.port < 0 || cfg.name === '' || cfg.dir === '') throw new Error('PORT, NAME and STATE_DIR are required');
} catch (e) {
  log(`config error: ${e.message}`);
  process.exit(2);
}

const coldFile = join(cfg.dir, `${cfg.name}.cold`);
const visitsFile = join(cfg.dir, `${cfg.name}.visits`);
const coldNextFile = join(cfg.dir, `${cfg.name}.cold-next`);
let warmAt = Infinity; // set once the port is open
let bornCold = false; // set once the port is open
const counts = { visitors: {}, probes: {} };
const isCold = () => {
  // Born cold ends for good when the file goes: the file made again is for the next process, not this one.
  if (bornCold && !existsSync(coldNextFile)) bornCold = false;
  return Date.now() < warmAt || existsSync(coldFile) || bornCold;
};
const isSite = (path) => path === cfg.sitePath || path.startsWith(`${cfg.sitePath}/`);

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  const visitor = req.headers['x-forwarded-for'] !== undefined;
  const cold = isCold();
  if (visitor) {
    // Written before answering: once a client has its answer, the record is on disk.
    appendFileSync(visitsFile, `${process.pid} ${cold ? 'cold' : 'warm'} ${path}\n`);
  }
  const tally = visitor ? counts.visitors : counts.probes;
  tally[path] = (tally[path] ?? 0) + 1;
  if (path === '/_counts' && !visitor) {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(counts)}\n`);
  } else if (path === '/') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
  } else if (isSite(path)) {
    const answer = () => {
      if (cold) res.writeHead(cfg.coldStatus, { 'Content-Type': 'text/plain', 'X-App': `${cfg.name} cold` }).end('cold\n');
      else res.writeHead(200, { 'Content-Type': 'text/plain', 'X-App': `${cfg.name} warm` }).end(`${cfg.name} ${process.pid}\n`);
    };
    if (cold && cfg.coldDelayMs > 0) setTimeout(answer, cfg.coldDelayMs);
    else answer();
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }
});

server.on('error', (e) => {
  log(`server error: ${e.message}`);
  process.exit(1);
});

setTimeout(
  () =>
    server.listen(cfg.port, '127.0.0.1', () => {
      warmAt = Date.now() + cfg.warmAfterMs;
      bornCold = existsSync(coldNextFile);
      log(`listening on 127.0.0.1:${cfg.port} name=${cfg.name} warm_after_ms=${cfg.warmAfterMs}`);
      if (existsSync(join(cfg.dir, `${cfg.name}.crash`))) {
        setTimeout(() => {
          log('crash file present: exiting 1');
          process.exit(1);
        }, cfg.exitAfterMs);
      }
    }),
  cfg.listenDelayMs,
);

const shutdown = (signal) => {
  log(`${signal}: exiting`);
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
