/**
 * Writes static-help.json: the --help text of the program ('') and of every command path, as commander
 * prints it with every command registered. bin/deltabox.js prints these without loading anything. Run
 * after changing a description, an option or an example (test/help.test.ts fails until then):
 *   node --import=tsx --conditions=deltabox-src scripts/write-static-help.ts
 */
import { writeFileSync } from 'node:fs';
import { helpTexts } from '../test/helpers/help-texts.js';

writeFileSync(new URL('../static-help.json', import.meta.url), `${JSON.stringify(await helpTexts(), null, 2)}\n`);
