/**
 * `--server`: an http:// or https:// base URL, checked before anything is sent, so `127.0.0.1:7070` (no
 * scheme) or `ftp://...` is a usage error with a hint instead of a network failure.
 */
import { CliError, EXIT } from './exit-codes.js';

/**
 * The server base URL as given, once it is known to be an http(s) URL with a host.
 * @throws CliError (usage) for anything else
 */
export function checkServerUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url && (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '') return text;
  const hint = /^[a-z][a-z0-9+.-]*:\/\//i.test(text)
    ? `only http:// and https:// are served`
    : `add the scheme: http://${text}`;
  throw new CliError(`--server '${text}' is not an http(s) URL such as http://127.0.0.1:7070 (${hint})`, EXIT.usage);
}
