import { CrowdpulseError } from '../errors.js';

/** Errors of the model registry and the model's files, with stable codes callers can match on. */
export type ModelErrorCode = 'CP_MODEL_NOT_FOUND' | 'CP_MODEL_MANIFEST_INVALID' | 'CP_MODEL_FILE_MISSING' | 'CP_MODEL_FILE_INVALID' | 'CP_MODEL_LOAD';

export class ModelError extends CrowdpulseError<ModelErrorCode> {}
