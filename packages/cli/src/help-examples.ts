/**
 * Examples shown at the end of each command's --help, in one table so they are easy to keep true (a test
 * parses every example against the command's real options). Text only: no commander import here.
 */

/** Command path (`token create`) -> example command lines, each with what it does. */
export const HELP_EXAMPLES: Readonly<Record<string, ReadonlyArray<readonly [command: string, what: string]>>> = {
  '': [
    ['deltabox run', 'server and scanner in one process: dir/client -> dir/server'],
    ['deltabox scan --help', 'the options of one command, with examples'],
    ['deltabox token create --sdir dir/server --name laptop --expires 30d', 'a device token for a scanner elsewhere'],
  ],
  run: [
    ['deltabox run', 'keep dir/server identical to dir/client, server on 127.0.0.1:7070'],
    ['deltabox run --cdir ~/notes --sdir /srv/notes --interval 30s', 'other folders, a full scan every 30 s'],
    ['deltabox run --port 0 --json', 'any free port, JSON log lines'],
    ['deltabox run --keep all=7d,size=1GiB', 'a week of every version (then the default daily and weekly), at most 1 GiB of history'],
  ],
  serve: [
    ['deltabox serve --sdir dir/server --issue-token-file dir/local.token', 'serve, and keep a token for a local scanner'],
    ['deltabox serve --sdir /srv/box --host 0.0.0.0 --port 8443 --tls-cert cert.pem --tls-key key.pem', 'HTTPS on every interface'],
    ['deltabox serve --sdir /srv/box --keep all=2d,daily=90d,weekly=730d,size=50GiB', 'keep more history than the default'],
  ],
  scan: [
    ['deltabox scan --cdir dir/client --server http://127.0.0.1:7070 --token-file dir/local.token', 'sync until Ctrl-C'],
    ['deltabox scan --cdir ~/notes --server https://box.example:8443 --ca ca.pem --once', 'sync once over HTTPS (token in DELTABOX_TOKEN)'],
    ['deltabox scan --cdir dir/client --server http://127.0.0.1:7070 --token-file dir/local.token --no-watch --interval 1m', 'no watcher, a full scan a minute'],
  ],
  history: [
    ['deltabox history notes/plan.md --server http://127.0.0.1:7070 --token-file dir/local.token', 'versions of a file: id, time, size, device, hash'],
    ['deltabox history notes/plan.md --server https://box.example:8443 --ca ca.pem --json', 'as JSON (token in DELTABOX_TOKEN)'],
  ],
  restore: [
    ['deltabox restore notes/plan.md --version 42 --server http://127.0.0.1:7070 --token-file dir/local.token', 'back to version 42 (ids from history)'],
    ['deltabox restore notes/plan.md --at 2h --to notes/plan-old.md --server http://127.0.0.1:7070 --token-file dir/local.token', 'as it was two hours ago, beside the current one'],
    ['deltabox restore photos --folder --at 2026-03-01T09:30:00Z --server http://127.0.0.1:7070 --token-file dir/local.token', 'a whole folder as of a time'],
  ],
  trash: [
    ['deltabox trash --server http://127.0.0.1:7070 --token-file dir/local.token', 'deleted files with their last version id'],
    ['deltabox trash --server https://box.example:8443 --ca ca.pem --json', 'as JSON (token in DELTABOX_TOKEN)'],
  ],
  token: [
    ['deltabox token create --sdir dir/server --name laptop --expires 30d', 'a token for 30 days, printed once'],
    ['deltabox token list --sdir dir/server', 'every token, never its value'],
    ['deltabox token revoke laptop --sdir dir/server', 'refused at once by a running server'],
  ],
  'token create': [
    ['deltabox token create --sdir dir/server --name laptop --expires 30d', 'read-write, expires in 30 days'],
    ['deltabox token create --sdir dir/server --name backup --read-only --expires 1.5h', 'read-only, for an hour and a half'],
  ],
  'token list': [
    ['deltabox token list --sdir dir/server', 'a table'],
    ['deltabox token list --sdir dir/server --json', 'one JSON object per token'],
  ],
  'token revoke': [
    ['deltabox token revoke laptop --sdir dir/server', "revoke every token named 'laptop'"],
    ['deltabox token revoke backup --sdir /srv/box', 'on another served folder'],
  ],
  signature: [
    ['deltabox signature old.bin old.sig', 'block length from the file size'],
    ['deltabox signature --block-size 4096 - old.sig < old.bin', 'from stdin, 4 KiB blocks'],
  ],
  delta: [
    ['deltabox delta old.sig new.bin new.delta', 'rdiff delta: only the signature of the basis is needed'],
    ['deltabox delta --basis old.bin old.sig new.bin new.delta', 'byte-exact: literals shrink to the changed bytes'],
  ],
  patch: [
    ['deltabox patch old.bin new.delta new.bin', 'new.bin appears only if its SHA-256 verifies'],
    ['deltabox patch old.bin - - < new.delta > new.bin', 'delta from stdin, result to stdout'],
  ],
};

/** The examples of `path` as a help section ('' when it has none). */
export function examplesText(path: string): string {
  const examples = HELP_EXAMPLES[path];
  if (!examples) return '';
  return `\nExamples:\n${examples.map(([command, what]) => `  $ ${command}\n      ${what}`).join('\n')}\n`;
}

/** Closing notes of the top-level --help: what every command shares. */
export const TOP_LEVEL_NOTES = `
Durations: a number and a unit (ms, s, m, h, d, w), fractions allowed: 500ms,
5s, 1.5m, 2h, 30d. A bare number is refused.
Exit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 server unreachable or
untrusted, 5 authentication refused or rate-limited, 130 a second Ctrl-C.
`;
