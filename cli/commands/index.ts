// Every `kubemedic` command, in the order `kubemedic help` lists them.
import type { Command } from '../command.ts';
import { cancel } from './cancel.ts';
import { completion } from './completion.ts';
import { approve, reject } from './decide.ts';
import { demo } from './demo.ts';
import { explain } from './explain.ts';
import { freeGrant, pause, resume, status } from './governor.ts';
import { history } from './history.ts';
import { list } from './list.ts';
import { restore } from './restore.ts';
import { show } from './show.ts';

export const commands: Command[] = [
  list,
  show,
  explain,
  history,
  approve,
  reject,
  cancel,
  restore,
  pause,
  resume,
  status,
  freeGrant,
  demo,
  completion,
];
