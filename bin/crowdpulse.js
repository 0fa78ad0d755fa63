#!/usr/bin/env node
// Entry point: registers tsx so the TypeScript sources (and Piscina's .ts workers) run as-is.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
