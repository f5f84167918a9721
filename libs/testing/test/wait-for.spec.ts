import { waitFor } from '../src/wait-for';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let calls = 0;
    await expect(
      waitFor(() => ++calls >= 3 && calls, { description: 'three calls', intervalMs: 1 }),
    ).resolves.toBe(3);
  });

  it('names what never happened and the last outcome', async () => {
    await expect(
      waitFor(() => 0n, { description: 'the impossible', timeoutMs: 30, intervalMs: 5 }),
    ).rejects.toThrow(/timed out after 30 ms waiting for the impossible \(last value: 0n\)/);
    await expect(
      waitFor(
        () => {
          throw new Error('boom');
        },
        { description: 'a throwing check', timeoutMs: 20 },
      ),
    ).rejects.toThrow(/last error: boom/);
  });

  it('does not outlive its deadline when a check never settles', async () => {
    const started = Date.now();
    await expect(
      waitFor(() => new Promise(() => undefined), { description: 'a hung check', timeoutMs: 50 }),
    ).rejects.toThrow(/did not settle/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
