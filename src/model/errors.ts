/** Errors of the model registry, with stable codes callers can match on. */
export type ModelErrorCode = 'MODEL_NOT_FOUND' | 'MODEL_MANIFEST_INVALID' | 'MODEL_FILE_MISSING';

export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(readonly code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
