/** The --help text commander prints for the program ('') and every command path, every command registered. */
import type { Command } from 'commander';
import { buildProgram } from '../../src/main.js';

function helpOf(command: Command): string {
  let out = '';
  command.configureOutput({ writeOut: (s) => (out += s) });
  command.outputHelp();
  return out;
}

function collect(command: Command, path: string, into: Record<string, string>): void {
  into[path] = helpOf(command);
  for (const sub of command.commands) collect(sub, path ? `${path} ${sub.name()}` : sub.name(), into);
}

export async function helpTexts(): Promise<Record<string, string>> {
  const texts: Record<string, string> = {};
  collect(await buildProgram(), '', texts);
  return texts;
}
