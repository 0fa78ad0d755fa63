/** The message contract: every stage imports its types and validators from here. */
export * from './result.js';
export * from './rejection.js';
export * from './canonical.js';
export * from './raw-post.js';
export * from './amplification.js';
export * from './post.js';
export * from './scored-post.js';
export * from './dead-letter.js';
export * from './dead-letter-key.js';
