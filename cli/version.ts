/** `kubemedic --version`: the version of the package the CLI ships in. */
import { readFileSync } from 'node:fs';

/** Set by the bundler (cli/package/build.ts): the built CLI has no package.json of the checkout beside it. */
declare const KUBEMEDIC_CLI_VERSION: string | undefined;

export const cliVersion =
  typeof KUBEMEDIC_CLI_VERSION === 'string'
    ? KUBEMEDIC_CLI_VERSION
    : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
        .version;
