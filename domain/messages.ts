/**
 * The remediation workflow's messages, defined once and shared with every client. Signals suit
 * the Web UI and `temporal workflow signal`; the updates answer for certain (the CLI uses them)
 * and their validators refuse a decision the run is not waiting for.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, CancelAnswer, MessageInput, RemediationStatus } from './run.ts';

export const approveSignal = defineSignal<[MessageInput?]>('approve');
export const rejectSignal = defineSignal<[MessageInput?]>('reject');
export const cancelSignal = defineSignal<[MessageInput?]>('cancel');

export const approveUpdate = defineUpdate<ApprovalDecision, [MessageInput]>('approve');
export const rejectUpdate = defineUpdate<ApprovalDecision, [MessageInput]>('reject');
/** A cancel with an answer (the watcher relays RemediationDecisions by update, once per decision uid). */
export const cancelUpdate = defineUpdate<CancelAnswer, [MessageInput]>('cancel');

export const statusQuery = defineQuery<RemediationStatus>('status');
