import type { Sink, Source, Transform } from './component.js';
import type { PipelineSpec, StageOptions } from './runner.js';

/**
 * A typed pipeline: `pipeline(source).through(transform, options).to(sink, options)`. Each step
 * takes what the previous one gives, so the chain type-checks end to end (Post → ScoredPost → a
 * ScoredPost sink); the runner's untyped spec is made here, in one place.
 */
export class PipelineBuilder<T> {
  private constructor(
    private readonly source: Source<unknown>,
    private readonly transforms: PipelineSpec['transforms'],
  ) {}

  static from<T>(source: Source<T>): PipelineBuilder<T> {
    return new PipelineBuilder<T>(source, []);
  }

  /** Adds a transform stage whose input is this pipeline's items. */
  through<O>(transform: Transform<T, O>, options: StageOptions): PipelineBuilder<O> {
    return new PipelineBuilder<O>(this.source, [...this.transforms, { transform, options }]);
  }

  /** Ends the pipeline in a sink of this pipeline's items. */
  to(sink: Sink<T>, options: StageOptions): PipelineSpec {
    return { source: this.source, transforms: this.transforms, sink: { sink, options } };
  }
}

export const pipeline = <T>(source: Source<T>): PipelineBuilder<T> => PipelineBuilder.from(source);
