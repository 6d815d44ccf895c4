/**
 * KubeMedic's container image without a container engine: the file system the Dockerfile would
 * build, assembled by following its own instructions (WORKDIR, COPY from the repository, RUN,
 * ENV, COPY --from an earlier stage), and run with its ENTRYPOINT. Docker is not available here:
 * this proves that what the image holds is enough to run, not that `docker build` succeeds.
 */
import { type ChildProcess, execSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { repoRoot } from '../../devstack/config.ts';

interface Instruction {
  keyword: string;
  args: string;
}

export interface AssembledImage {
  /** The temporary folder that holds every stage (and room for logs and mounted files). */
  root: string;
  /** The final stage's working directory, as a folder here. */
  app: string;
  /** USER uid:gid, numeric. */
  user?: { uid: number; gid: number };
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
}

/** The Dockerfile's stages by name (or index), with continuation lines joined and comments dropped. */
function stages(): { name: string; instructions: Instruction[] }[] {
  const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const result: { name: string; instructions: Instruction[] }[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword === 'FROM')
      result.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(result.length), instructions: [] });
    else result.at(-1)?.instructions.push({ keyword, args });
  }
  return result;
}

/** Builds every stage into a folder of its own under one temporary root; returns the last. */
export function assembleImage(): AssembledImage {
  const root = mkdtempSync(join(tmpdir(), 'kubemedic-image-'));
  chmodSync(root, 0o755); // the image's user must reach its files
  const built = new Map<string, string>();
  let image: AssembledImage | undefined;
  for (const stage of stages()) {
    const dir = join(root, stage.name);
    image = { root, app: dir, entrypoint: [], cmd: [], env: {} };
    mkdirSync(dir, { mode: 0o755 });
    for (const { keyword, args } of stage.instructions) {
      if (keyword === 'WORKDIR') {
        image.app = join(dir, args);
        mkdirSync(image.app, { recursive: true });
      } else if (keyword === 'COPY') {
        const words = args.split(/\s+/);
        const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
        const destination = words.pop()!;
        for (const source of words) {
          const origin = join(from === undefined ? repoRoot : built.get(from)!, source);
          const target = join(image.app, destination, destination.endsWith('/') ? basename(source) : '');
          cpSync(origin, target, { recursive: true });
        }
      } else if (keyword === 'RUN') {
        execSync(args, { cwd: image.app, stdio: 'pipe', env: { ...process.env, ...image.env } });
      } else if (keyword === 'ENV') {
        const [name = '', ...value] = args.split('=');
        image.env[name] = value.join('=');
      } else if (keyword === 'USER') {
        const [uid, gid = uid] = args.split(':').map(Number);
        image.user = { uid: uid!, gid: gid! };
      } else if (keyword === 'ENTRYPOINT') image.entrypoint = JSON.parse(args) as string[];
      else if (keyword === 'CMD') image.cmd = JSON.parse(args) as string[];
    }
    built.set(stage.name, dir);
  }
  if (!image) throw new Error('the Dockerfile has no stage');
  return image;
}

/** Takes write permission away everywhere below `path`: the chart runs the image with a read-only root file system. */
export function makeReadOnly(path: string): void {
  const { mode } = statSync(path);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) makeReadOnly(join(path, entry));
  chmodSync(path, mode & ~0o222);
}

/** Gives the owner write permission back, so the temporary folder can be removed. */
export function makeWritable(path: string): void {
  chmodSync(path, statSync(path).mode | 0o200);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}

/** `file` copied where the image's user can read it, as the kubelet mounts a projected token. */
export function mountFile(image: AssembledImage, file: string): string {
  const mounted = join(image.root, `mounted-${basename(file)}`);
  cpSync(file, mounted);
  chmodSync(mounted, 0o444);
  return mounted;
}

/**
 * Runs the image's ENTRYPOINT (its `node` is this Node) with `cmd` as the chart's args, output to
 * `log`: as the image's USER when this process may switch to it (as root), else as this user.
 */
export function runImage(
  image: AssembledImage,
  cmd: string[],
  env: NodeJS.ProcessEnv,
  log: string,
): ChildProcess {
  const [program, ...entrypointArgs] = image.entrypoint;
  if (program !== 'node') throw new Error(`the image's entrypoint runs ${program}, not node`);
  const output = openSync(log, 'a');
  const user = process.getuid?.() === 0 ? image.user : undefined;
  return spawn(user ? imageNode(image) : process.execPath, [...entrypointArgs, ...cmd], {
    cwd: image.app,
    env: { PATH: process.env.PATH, HOME: tmpdir(), ...image.env, ...env },
    stdio: ['ignore', output, output],
    ...user,
  });
}

/**
 * The image's own copy of this Node, which its USER can reach: this one may not be reachable
 * (devstack/node.sh installs Node 24 under root's home, which other users cannot enter).
 */
function imageNode(image: AssembledImage): string {
  const node = join(image.root, 'node');
  if (!existsSync(node)) {
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  return node;
}
