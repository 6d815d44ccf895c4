/** `kubemedic --version`: the version of the package the CLI ships in. */
import { readFileSync } from 'node:fs';

export const cliVersion = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
