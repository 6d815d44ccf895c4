/**
 * The safety governor: a long-lived workflow (one per cluster, one per policy, one per namespace
 * when a per-namespace limit is set) that hands out
 * permits to act. Because one workflow decides every request in order, its limits hold exactly
 * however many watcher replicas start runs and whichever processes crash.
 *
 * - max concurrent: a request beyond the limit waits in a FIFO queue for a slot;
 * - max per hour (sliding window) and attempts per target per window: refused at once, except
 *   that while the hourly limit is reached only by counting grants still held (which may yet be
 *   given back unused) the request waits for them to settle, so it is not refused for a budget
 *   that frees up (a paused cluster governor must be the reason a storm's runs hear);
 * - pause: every request is refused until resume; runs already holding a permit go on.
 * - a permit released unused (its run was refused by a later governor and never acted) gives its
 *   grant back: it counts toward neither the hourly limit nor the target's attempts.
 * - storm cooldown: after the watcher reports a blast-radius storm (`stormDetected`), every
 *   request is refused until the cooldown has passed since the storm was last reported. It lives
 *   here, not in the watcher's memory, so a watcher restart does not forget it.
 *
 * A run asks by update from its requestPermits activity: a request that can be decided at once is
 * answered in the same workflow task; one that must wait is queued, and its answer goes out as a
 * signal when it comes, so no activity waits on the governor. (Runs before `permits-by-update`
 * ask by signal and hear by signal.)
 * The state is carried across continue-as-new, so the history never grows without bound.
 */
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  askPermitsUpdate,
  type GovernorState,
  requestPermitSignal,
  releasePermitSignal,
  pauseSignal,
  resumeSignal,
  stormDetectedSignal,
  permitSignal,
  governorStatusQuery,
  freeGrantSignal,
  leaseCheckSignal,
} from '../domain/governor.ts';
import { GovernorLedger } from './governor-ledger.ts';
import { workflowTime } from './workflow-time.ts';

/** Continue-as-new after this many decisions even if the server does not suggest it sooner. */
const defaultDecisionsPerRun = 500;
/** How often the grants are checked for runs that closed without giving them back (terminated). */
const defaultLeaseCheckMs = 5 * 60_000;

export interface GovernorOptions {
  leaseCheckMs?: number;
}

export async function governor(
  initial?: GovernorState,
  decisionsPerRun = defaultDecisionsPerRun,
  options: GovernorOptions = {},
): Promise<void> {
  const leaseCheckMs = options.leaseCheckMs ?? defaultLeaseCheckMs;
  // Governors that started before leases replay without checking them.
  const checkLeases = patched('lease-check');
  let lastLeaseCheck = workflowTime();
  const self = workflowInfo().workflowId;
  const ledger = new GovernorLedger(initial ?? GovernorLedger.empty(), self, {
    // Governors that started before it replay without waiting for held grants to settle.
    settleHeldGrants: patched('rate-limit-waits-for-held-grants'),
    // Governors that ran before refunds replay without them.
    refundUnused: () => patched('refund-unused-permits'),
  });
  let decisions = 0;

  setHandler(requestPermitSignal, (request) => ledger.request(request));
  setHandler(askPermitsUpdate, (requests) => {
    // Every ask counts toward continue-as-new, so the updates in one run stay far below
    // Temporal's limit of updates per workflow run (2,000).
    decisions += requests.length;
    return requests.map((request) => ledger.answerNow(request, workflowTime()));
  });
  setHandler(releasePermitSignal, ({ workflowId, unused }) => ledger.release(workflowId, unused === true));
  setHandler(pauseSignal, ({ by, reason }) => ledger.pause(by ?? 'unknown', reason ?? ''));
  setHandler(resumeSignal, () => ledger.resume());
  setHandler(stormDetectedSignal, ({ cooldownMs, message }) => {
    // Governors that ran before storms were reported here replay without it.
    if (!patched('storm-cooldown')) return;
    ledger.stormReported(workflowTime(), cooldownMs, message);
  });
  setHandler(governorStatusQuery, () => ledger.status(workflowTime()));
  setHandler(freeGrantSignal, ({ workflowId, by, reason }) => {
    log.warn('a grant was freed by hand', { workflowId, by, reason });
    ledger.release(workflowId, false);
  });

  for (;;) {
    const leaseCheckDue = () => checkLeases && ledger.holders().length > 0;
    const leaseTimed = leaseCheckDue();
    await condition(
      () =>
        ledger.decidable(workflowTime()) ||
        workflowInfo().continueAsNewSuggested ||
        decisions >= decisionsPerRun ||
        // A grant made by the update handler while this waited untimed: time its lease check.
        // (Before updates, grants were made only by this loop, so older histories never wake here.)
        (!leaseTimed && leaseCheckDue()),
      leaseTimed ? Math.max(lastLeaseCheck + leaseCheckMs - workflowTime(), 1) : undefined,
    );
    if (leaseCheckDue() && workflowTime() >= lastLeaseCheck + leaseCheckMs) {
      lastLeaseCheck = workflowTime();
      await freeLeasesOfClosedRuns();
    }
    while (ledger.decidable(workflowTime()) && decisions < decisionsPerRun) {
      const { request, answer } = ledger.decideNext(workflowTime());
      decisions += 1;
      // The run may be gone (terminated); its answer then has nobody to go to.
      await getExternalWorkflowHandle(request.workflowId)
        .signal(permitSignal, answer)
        .catch(() => {
          if (answer.granted) ledger.runGone(request.workflowId);
        });
    }
    if (workflowInfo().continueAsNewSuggested || decisions >= decisionsPerRun) {
      await continueAsNew<typeof governor>(ledger.pruned(workflowTime()), decisionsPerRun, options);
    }
  }

  /**
   * A grant belongs to a run that is still open. A run that closed without releasing (it was
   * terminated) cannot be signalled: that frees its grant. The run's own release stays the fast path.
   */
  async function freeLeasesOfClosedRuns(): Promise<void> {
    for (const { workflowId, runId } of ledger.holders()) {
      await getExternalWorkflowHandle(workflowId, runId)
        .signal(leaseCheckSignal)
        .catch(() => {
          log.warn('freed the grant of a run that closed without releasing it', { workflowId, runId });
          ledger.runGone(workflowId);
        });
    }
  }
}
