import { isWellKnownDefault, secretWeaknesses, shannonEntropy } from '../src/secret-strength';

const STRONG = 'q7Vx2LmN9pR4tK8wZ3yB6hJ1cF5dG0sA';

describe('secretWeaknesses', () => {
  it('accepts a long random secret', () => {
    expect(secretWeaknesses(STRONG)).toEqual([]);
    expect(secretWeaknesses('3f9c1a7e5b2d8f4c6a0e9b1d7c3f5a8e2b4d6f0c1e3a5b7d9f2c4e6a8b0d1f3e')).toEqual([]); // 32 random bytes as hex
  });

  it('refuses short, repetitive and low-entropy secrets', () => {
    expect(secretWeaknesses('q7Vx2LmN9pR4')).toContain('shorter than 32 characters');
    expect(secretWeaknesses('abababababababababababababababababab')).toEqual(
      expect.arrayContaining(['fewer than 10 distinct characters', expect.stringMatching(/^low entropy/)]),
    );
    expect(
      secretWeaknesses('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdefghijk').some((r) => r.startsWith('low entropy')),
    ).toBe(true);
  });

  it.each([
    'changeme',
    'CHANGEME',
    'ChangeMe',
    'changemechangemechangemechangemechangeme',
    'Password123!',
    'p@ssw0rd',
    'PALISADE-PALISADE-PALISADE-PALISADE',
    'secret',
    'admin',
    'dev',
    'Demo_Demo_Demo',
    'change_me',
    'changeme-palisade-2025',
  ])('refuses the well-known default %p', (secret) => {
    expect(isWellKnownDefault(secret)).toBe(true);
    expect(secretWeaknesses(secret)).toContain('a well-known default or placeholder');
  });

  it('does not call random secrets defaults', () => {
    expect(isWellKnownDefault(STRONG)).toBe(false);
    expect(isWellKnownDefault('devops-rotation-7f3a9c')).toBe(false);
  });

  it('never quotes the secret in its reasons', () => {
    for (const secret of ['hunter2hunter2', 'changeme', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz']) {
      for (const reason of secretWeaknesses(secret)) expect(reason).not.toContain(secret);
    }
  });

  it('estimates entropy per character', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });
});
