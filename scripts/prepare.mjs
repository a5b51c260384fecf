// npm's `prepare` script: builds dist/ from a clean slate with the lockfile's TypeScript, first installing
// the dev dependencies when there are none (a fresh clone packed, or installed as a folder or git URL).
// Plain JavaScript without dependencies, since it runs before any are installed, on Node 18 too.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

function run(command, args, env) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    process.stderr.write(`prepare: ${[command, ...args].join(" ")} exited ${result.status ?? result.signal}\n`);
    process.exit(1);
  }
}

if (!existsSync(tsc)) {
  // npm hands its own settings to scripts as npm_config_* variables. Inherited by this nested npm, those
  // of the outer command would send the dependencies elsewhere: `global` and the prefixes of
  // `npm install -g` into the global folder (what npm/cli#8440 reports), `omit` would skip TypeScript.
  const outer = /^npm_config_(global|global_prefix|local_prefix|prefix|location|include|omit|production|only|also|dev|force|dry_run|package_lock|package_lock_only|save.*|install_links|install_strategy|workspaces?|include_workspace_root|ignore_scripts|allow_scripts)$/i;
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !outer.test(key)));
  // npm_execpath is the npm running this script: the same npm installs the dependencies.
  const npm = process.env.npm_execpath;
  const [command, args] = npm !== undefined && npm.endsWith(".js")
    ? [process.execPath, [npm]]
    : ["npm", []];
  // --ignore-scripts: `npm ci` would run this very script again.
  run(command, [...args, "ci", "--include=dev", "--ignore-scripts", "--no-audit", "--no-fund"], env);
}

rmSync(join(root, "dist"), { recursive: true, force: true });
run(process.execPath, [tsc, "-p", "tsconfig.json"], process.env);
chmodSync(join(root, "dist", "cli.js"), 0o755);
