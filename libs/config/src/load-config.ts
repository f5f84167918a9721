import { z } from 'zod';
import { ConfigError, ConfigProblem } from './config-error';
import { urlPassword } from './config-fields';
import { REDACTED, sensitiveKeys } from './sensitive';

/** The environment as the process sees it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Sensitive strings shorter than this are not scrubbed from messages (it would mangle ordinary words). */
const MIN_SCRUB_LENGTH = 4;

/**
 * Parses the environment with a service's schema, once, at boot. Returns the typed config or
 * throws ONE ConfigError listing every problem (one per setting); never anything else, and
 * never a message that contains a sensitive value. An empty variable counts as unset.
 * This is the only place Palisade reads `process.env`.
 */
export function loadConfig<Schema extends z.ZodType>(
  schema: Schema,
  env: Environment = process.env,
): z.output<Schema> {
  let input: Record<string, string> = {};
  try {
    input = presentVariables(env);
    const result = schema.safeParse(input, {
      error: (issue) => (issue.input === undefined ? 'is required' : undefined),
    });
    if (result.success) return result.data;
    throw new ConfigError(scrub(problemsFrom(result.error.issues), secretsIn(schema, input)));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // A bug in a schema (a transform that throws, ...) still ends as a ConfigError, scrubbed.
    const detail = oneLine(error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error');
    throw new ConfigError(
      scrub(
        [{ key: '(config)', message: `the configuration could not be validated (${detail})` }],
        safeSecretsIn(schema, input),
      ),
    );
  }
}

/** The variables that are set, with empty ones treated as unset (as `FOO=` in compose files means). */
function presentVariables(env: Environment): Record<string, string> {
  const present: Record<string, string> = {};
  for (const [key, value] of Object.entries(env ?? {})) {
    if (typeof value === 'string' && value !== '') present[key] = value;
  }
  return present;
}

/** One problem per setting: several issues about the same key are joined into one message. */
function problemsFrom(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const byKey = new Map<string, { messages: string[]; fixes: string[] }>();
  for (const issue of issues) {
    const key = issue.path.length > 0 ? issue.path.map(String).join('.') : '(config)';
    const entry = byKey.get(key) ?? { messages: [], fixes: [] };
    const message = oneLine(issue.message);
    if (!entry.messages.includes(message)) entry.messages.push(message);
    const fix = (issue as { params?: { fix?: unknown } }).params?.fix;
    if (typeof fix === 'string' && !entry.fixes.includes(fix)) entry.fixes.push(oneLine(fix));
    byKey.set(key, entry);
  }
  return [...byKey].map(([key, { messages, fixes }]) => ({
    key,
    message: messages.join('; '),
    ...(fixes.length > 0 ? { fix: fixes.join('; ') } : {}),
  }));
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * Every form in which a sensitive variable's value could show up in a message: the raw value,
 * a URL's password (decoded and encoded; not the user or host), or the entries of a
 * `role:token` list.
 */
function secretsIn(schema: z.ZodType, input: Record<string, string>): string[] {
  const secrets = new Set<string>();
  for (const key of sensitiveKeys(schema)) {
    const value = input[key];
    if (value === undefined) continue;
    secrets.add(value);
    const password = urlPassword(value);
    if (password !== undefined) {
      secrets.add(password);
      secrets.add(encodeURIComponent(password));
      continue;
    }
    for (const entry of value.split(/[,\s]+/)) {
      secrets.add(entry);
      if (entry.includes(':')) secrets.add(entry.slice(entry.indexOf(':') + 1));
    }
  }
  return [...secrets]
    .filter((secret) => secret.length >= MIN_SCRUB_LENGTH)
    .sort((a, b) => b.length - a.length);
}

function safeSecretsIn(schema: z.ZodType, input: Record<string, string>): string[] {
  try {
    return secretsIn(schema, input);
  } catch {
    // Without the list, scrub every value of the environment rather than risk one.
    return Object.values(input).filter((value) => value.length >= MIN_SCRUB_LENGTH);
  }
}

/** Replaces every occurrence of a secret in messages and fixes with '[redacted]' (defence in depth: messages never quote values). */
function scrub(problems: ConfigProblem[], secrets: readonly string[]): ConfigProblem[] {
  const clean = (text: string) =>
    secrets.reduce((result, secret) => result.split(secret).join(REDACTED), text);
  return problems.map((problem) => ({
    key: problem.key,
    message: clean(problem.message),
    ...(problem.fix === undefined ? {} : { fix: clean(problem.fix) }),
  }));
}
