/**
 * The bench's progress display: on a terminal, an overall bar (steps) and a bar for the step that
 * runs; elsewhere (CI, logs) one line when a step starts and ends, and every few seconds between.
 */
import cliProgress from 'cli-progress';

export interface StepHandle {
  update(value: number, status?: string): void;
  done(summary: string): void;
}

export class BenchProgress {
  readonly #tty = process.stderr.isTTY === true;
  readonly #multi: cliProgress.MultiBar | undefined;
  readonly #overall: cliProgress.SingleBar | undefined;
  #stepsDone = 0;

  constructor(private totalSteps: number) {
    if (this.#tty) {
      this.#multi = new cliProgress.MultiBar(
        {
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
          format: '{label} |{bar}| {value}/{total} {unit} {status}',
          barsize: 30,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#overall = this.#multi.create(totalSteps, 0, { label: 'bench steps'.padEnd(34), unit: 'steps', status: '' });
    }
  }

  /** More steps than planned (e.g. profile runs decided after the goals are judged). */
  addSteps(n: number): void {
    this.totalSteps += n;
    this.#overall?.setTotal(this.totalSteps);
  }

  log(line: string): void {
    if (this.#multi) this.#multi.log(`${line}\n`);
    else process.stderr.write(`${line}\n`);
  }

  step(label: string, total: number, unit = 'posts'): StepHandle {
    const started = performance.now();
    const prefix = `[${this.#stepsDone + 1}/${this.totalSteps}] ${label}`;
    if (this.#multi) {
      const bar = this.#multi.create(total, 0, { label: label.slice(0, 34).padEnd(34), unit, status: '' });
      return {
        update: (value, status = '') => bar.update(Math.min(total, value), { status }),
        done: (summary) => {
          bar.update(total, { status: summary });
          bar.stop();
          this.#multi?.remove(bar);
          this.#stepsDone += 1;
          this.#overall?.update(this.#stepsDone);
          this.log(`${prefix}: ${summary}`);
        },
      };
    }
    process.stderr.write(`${prefix} ...\n`);
    let lastLine = performance.now();
    return {
      update: (value, status = '') => {
        if (performance.now() - lastLine < 5000) return;
        lastLine = performance.now();
        process.stderr.write(`${prefix}: ${Math.min(total, value)}/${total} ${unit} ${status}\n`);
      },
      done: (summary) => {
        this.#stepsDone += 1;
        process.stderr.write(`${prefix}: ${summary} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
      },
    };
  }

  stop(): void {
    this.#multi?.stop();
  }
}
