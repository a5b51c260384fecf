// Which rule applies to a supervisord process, and its servers with the name templates filled in (pure).

import { isValidName } from '../haproxy/commands.js';
import type { ServerRef } from '../haproxy/types.js';
import type { ProcessName } from '../supervisor/types.js';
import type { WarmupSpec } from '../warmup/spec.js';
import { substituteTemplate } from './parse.js';
import type { Config, ProgramRule } from './types.js';

type Resolved =
  | { readonly kind: 'mapped'; readonly rule: ProgramRule; readonly servers: readonly ServerRef[] }
  /** A rule applies but a filled-in name is not a valid HAProxy name (e.g. process "café"): log, do not send. */
  | { readonly kind: 'invalid'; readonly rule: ProgramRule; readonly reason: string };

/**
 * The most specific rule for `name`: [program:GROUP:PROCESS], then [program:PROCESS] (any group), then
 * [group:GROUP]; null when none applies. Section names are unique, so each level has at most one rule.
 */
export function findRule(config: Config, name: ProcessName): ProgramRule | null {
  const { rules } = config;
  return (
    rules.find((r) => r.match.kind === 'process' && r.match.group === name.group && r.match.process === name.process) ??
    rules.find((r) => r.match.kind === 'process' && r.match.group === null && r.match.process === name.process) ??
    rules.find((r) => r.match.kind === 'group' && r.match.group === name.group) ??
    null
  );
}

/** The rule for `name` and its servers; `%(program_name)s` is the group name, as in supervisord. */
export function resolveProcess(config: Config, name: ProcessName): Resolved | null {
  const rule = findRule(config, name);
  if (rule === null) return null;
  const servers: ServerRef[] = [];
  for (const template of rule.servers) {
    const filled = substituteTemplate(template, name);
    const slash = filled.indexOf('/');
    const ref = { backend: filled.slice(0, slash), server: filled.slice(slash + 1) };
    // Templates were checked with a sample name; the real one may hold characters HAProxy names cannot.
    if (slash < 0 || !isValidName(ref.backend) || !isValidName(ref.server)) {
      return {
        kind: 'invalid',
        rule,
        reason:
          `[${rule.section}] servers '${template}' gives '${filled}' for ${name.group}:${name.process}, ` +
          'not a valid backend/server name',
      };
    }
    if (!servers.some((s) => s.backend === ref.backend && s.server === ref.server)) servers.push(ref);
  }
  return { kind: 'mapped', rule, servers };
}

/** The warm-up to run from STARTING, or null when the rule has no requests (ready at once). */
export function warmupSpecOf(rule: ProgramRule): WarmupSpec | null {
  if (rule.warmup.requests.length === 0) return null;
  return rule.address === undefined ? rule.warmup : { ...rule.warmup, address: rule.address };
}
