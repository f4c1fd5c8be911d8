// The layering rule must actually fire: electron stays out of the core, Node out of the renderer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';
import { PROJECT_ROOT } from '../../electron/core/paths.ts';

const eslint = new ESLint({ cwd: PROJECT_ROOT });

async function restrictedImportErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' && m.severity === 2).map((m) => m.message);
}

test('electron imports are errors in the core and the common contract', async () => {
  assert.equal((await restrictedImportErrors(`import { app } from 'electron';\nexport const a = app;\n`, 'electron/core/services/x.ts')).length, 1);
  assert.equal((await restrictedImportErrors(`import { app } from 'electron';\nexport const a = app;\n`, 'electron/common/x.ts')).length, 1);
});

test('Node built-ins are errors in the renderer and in electron/common', async () => {
  const code = `import fs from 'node:fs';\nimport path from 'path';\nexport const a = [fs, path];\n`;
  assert.equal((await restrictedImportErrors(code, 'renderer/src/lib/x.ts')).length, 2);
  assert.equal((await restrictedImportErrors(code, 'electron/common/x.ts')).length, 2);
});

test('the renderer may not reach into the core', async () => {
  assert.equal((await restrictedImportErrors(`import { x } from '../../../electron/core/services/studio.ts';\nexport const a = x;\n`, 'renderer/src/lib/x.ts')).length, 1);
});

test('the same imports are fine where they belong', async () => {
  assert.deepEqual(await restrictedImportErrors(`import { app } from 'electron';\nexport const a = app;\n`, 'electron/main/x.ts'), []);
  assert.deepEqual(await restrictedImportErrors(`import fs from 'node:fs';\nexport const a = fs;\n`, 'electron/core/services/x.ts'), []);
  assert.deepEqual(await restrictedImportErrors(`import { API } from '../../../electron/common/api.ts';\nexport const a = API;\n`, 'renderer/src/lib/x.ts'), []);
});
