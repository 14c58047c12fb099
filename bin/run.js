#!/usr/bin/env node
// Runs the TypeScript CLI directly: no build step, so `npm ci` leaves `npx academy` working.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
