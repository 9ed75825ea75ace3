#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the package works straight from a clone.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
