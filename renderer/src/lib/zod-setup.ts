// Imported first by main.ts. zod's JIT probes `new Function`, which the page's CSP (script-src
// 'self', no unsafe-eval) reports as a violation even though zod catches the error: run jitless.
import { z } from 'zod';

z.config({ jitless: true });
