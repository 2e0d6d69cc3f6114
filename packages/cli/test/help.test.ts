/** --help and --version: the static top-level help stays true, and every command has real examples. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram, COMMAND_NAMES } from '../src/main.js';
import { HELP_EXAMPLES } from '../src/help-examples.js';
import { helpTexts } from './helpers/help-texts.js';
import { spawnCli, spawnBin } from './helpers/child.js';

const STATIC_HELP = JSON.parse(readFileSync(new URL('../static-help.json', import.meta.url), 'utf8')) as Record<string, string>;

/** Every command path (`token create`) under `command`. */
function paths(command: Command, prefix = ''): Array<[string, Command]> {
  return command.commands.flatMap((sub) => {
    const path = prefix ? `${prefix} ${sub.name()}` : sub.name();
    return [[path, sub] as [string, Command], ...paths(sub, path)];
  });
}

function helpOf(command: Command): string {
  let out = '';
  command.configureOutput({ writeOut: (s) => (out += s) });
  command.outputHelp();
  return out;
}

t.test('the static help texts are what commander prints with every command registered', async (t) => {
  t.same(STATIC_HELP, await helpTexts(), 'static-help.json is out of date: run scripts/write-static-help.ts');
  const program = await buildProgram();
  t.same(program.commands.map((c) => c.name()), COMMAND_NAMES);
});

t.test('every command shows two or more examples, and each example parses with the real options', async (t) => {
  const program = await buildProgram();
  const all = paths(program);
  for (const [path, command] of all) {
    t.ok((HELP_EXAMPLES[path]?.length ?? 0) >= 2, `${path} has at least two examples`);
    t.match(helpOf(command), /\nExamples:\n {2}\$ deltabox /, `${path} --help shows them`);
    command.action(() => {}); // parse only: nothing runs
  }
  t.same(Object.keys(HELP_EXAMPLES).filter((p) => p !== '' && !all.some(([q]) => q === p)), [], 'no examples for unknown commands');
  for (const [path, examples] of Object.entries(HELP_EXAMPLES)) {
    for (const [line] of examples) {
      // The command before any shell redirection or `&&`, split on spaces (examples quote nothing).
      const words = line.split(' ');
      const end = words.findIndex((w) => w === '&&' || w.startsWith('<') || w.startsWith('>'));
      const argv = (end === -1 ? words : words.slice(0, end)).slice(1);
      if (argv.includes('--help')) continue;
      t.ok(argv.join(' ').startsWith(path), `'${line}' belongs to ${path || 'the top level'}`);
      await t.resolves(program.parseAsync(argv, { from: 'user' }), `'${line}' parses`);
    }
  }
});

t.test('the launcher answers --version and --help from package.json and static-help.json', async (t) => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const child = spawnBin([flag]);
    t.equal((await child.exited).code, 0);
    t.equal(child.stdout(), `${version}\n`, `${flag}, answered by the launcher`);
  }
  const viaCommander = spawnCli(['--version']);
  t.equal((await viaCommander.exited).code, 0);
  t.equal(viaCommander.stdout(), `${version}\n`, '--version through commander');
  for (const [args, path] of [[['--help'], ''], [['help'], ''], [['help', 'scan'], 'scan'], [['token', 'create', '-h'], 'token create']] as const) {
    const help = spawnBin([...args]);
    t.equal((await help.exited).code, 0);
    t.equal(help.stdout(), STATIC_HELP[path], `${args.join(' ')} prints the help of '${path}'`);
  }
  const throughCommander = spawnCli(['scan', '--cdir', 'x', '--help']);
  t.equal((await throughCommander.exited).code, 0);
  t.equal(throughCommander.stdout(), STATIC_HELP.scan, 'commander prints the same text');
});
