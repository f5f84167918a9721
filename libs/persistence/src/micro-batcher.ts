/**
 * Collects calls made close together and runs them as one batch: everything that arrives while
 * a batch is running (or in the same tick) goes into the next one. Used to turn many concurrent
 * single-row writes into one statement and one commit (group commit at the application level).
 */
export class MicroBatcher<In, Out> {
  private queue: Array<{ input: In; resolve: (value: Out) => void; reject: (error: unknown) => void }> = [];
  private running = 0;
  private scheduled = false;

  constructor(
    /** Runs a batch; returns one outcome per input, in order (an Error outcome rejects that call). */
    private readonly run: (inputs: In[]) => Promise<Array<Out | Error>>,
    private readonly options: { maxBatch: number; concurrency: number } = { maxBatch: 256, concurrency: 1 },
  ) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.options.concurrency) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.queue.length === 0 || this.running >= this.options.concurrency) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.running++;
    try {
      const outcomes = await this.run(batch.map((b) => b.input));
      batch.forEach((call, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof Error) call.reject(outcome);
        else call.resolve(outcome);
      });
    } catch (error) {
      for (const call of batch) call.reject(error);
    } finally {
      this.running--;
      if (this.queue.length) this.schedule();
    }
  }
}
