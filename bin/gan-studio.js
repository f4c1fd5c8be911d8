#!/usr/bin/env node
// The `gan-studio` command. The core is TypeScript run through the tsx loader, so the command
// works right after `npm install` / `npm ci` without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../electron/core/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
