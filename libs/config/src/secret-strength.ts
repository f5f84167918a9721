/** What production mode asks of every secret. */
export const SECRET_RULES = {
  minLength: 32,
  minDistinctChars: 10,
  /** Shannon estimate over the secret's own characters; random base64 scores about 5, random hex about 3.8. */
  minBitsPerChar: 3.5,
} as const;

/**
 * Well-known defaults and placeholder words. A secret made only of these words (any case,
 * repeated, joined by punctuation or digits, e.g. "Password123!" or "changeme-changeme") is refused.
 */
export const WEAK_SECRET_WORDS: readonly string[] = [
  'changeme',
  'changeit',
  'password',
  'passw0rd',
  'passwd',
  'pass',
  'secret',
  'palisade',
  'admin',
  'administrator',
  'root',
  'dev',
  'development',
  'demo',
  'test',
  'testing',
  'default',
  'example',
  'sample',
  'letmein',
  'welcome',
  'qwerty',
  'asdf',
  'abc',
  'token',
  'key',
  'guest',
  'user',
  'postgres',
  'nats',
  'local',
  'localhost',
  'insecure',
  'dummy',
  'foo',
  'bar',
  'todo',
  'xxx',
];

const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
};

/** Shannon entropy estimate of a string in bits per character (0 for the empty string). */
export function shannonEntropy(value: string): number {
  const chars = [...value];
  if (chars.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of chars) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / chars.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Whether `text` is nothing but weak words and digits (word-break by dynamic programming: linear, no regex backtracking). */
function composedOfWeakWords(text: string): boolean {
  if (text.length === 0) return false;
  const reachable = new Array<boolean>(text.length + 1).fill(false);
  reachable[0] = true;
  for (let i = 0; i < text.length; i++) {
    if (!reachable[i]) continue;
    if (text[i] >= '0' && text[i] <= '9') reachable[i + 1] = true;
    for (const word of WEAK_SECRET_WORDS) {
      if (text.startsWith(word, i)) reachable[i + word.length] = true;
    }
  }
  return reachable[text.length];
}

/** Whether a secret is a well-known default (any case, repeated, with digits or punctuation, or in leetspeak). */
export function isWellKnownDefault(secret: string): boolean {
  const lower = secret.toLowerCase();
  const plain = lower.replace(/[^a-z0-9]/g, '');
  const unleet = [...lower]
    .map((c) => LEET[c] ?? c)
    .join('')
    .replace(/[^a-z0-9]/g, '');
  return composedOfWeakWords(plain) || composedOfWeakWords(unleet);
}

/**
 * Why a secret is too weak for production, as short reasons (empty when it is strong).
 * The reasons never contain the secret or any part of it.
 */
export function secretWeaknesses(secret: string): string[] {
  const reasons: string[] = [];
  const length = [...secret].length;
  if (length < SECRET_RULES.minLength) reasons.push(`shorter than ${SECRET_RULES.minLength} characters`);
  if (new Set(secret).size < SECRET_RULES.minDistinctChars)
    reasons.push(`fewer than ${SECRET_RULES.minDistinctChars} distinct characters`);
  const bits = shannonEntropy(secret);
  if (bits < SECRET_RULES.minBitsPerChar)
    reasons.push(
      `low entropy (${bits.toFixed(1)} bits per character, at least ${SECRET_RULES.minBitsPerChar} needed)`,
    );
  if (isWellKnownDefault(secret)) reasons.push('a well-known default or placeholder');
  return reasons;
}
