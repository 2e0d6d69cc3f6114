/**
 * The compact answer of POST /v1/batch (docs/API.md §POST /v1/batch, "Compact answer"): per good part only
 * its revision, delta-coded, and details only for the parts that failed. Asked for with `Accept:
 * mediaTypes.batchCompact`. Pure encode/decode; no I/O.
 */
import type { ApiErrorBody } from './types.js';

export interface CompactBatchFailure {
  /** Position of the file part in the request, from 0. */
  index: number;
  path: string;
  error: ApiErrorBody;
}

export interface CompactBatchResponse {
  /**
   * One number per part that succeeded, in request order: the first is its revision, each next one its
   * revision minus the previous one (mostly 1, so a file costs about two bytes).
   */
  revisions: number[];
  failed: CompactBatchFailure[];
}

/** Delta-codes revisions for CompactBatchResponse.revisions. */
export function compactRevisions(revisions: readonly number[]): number[] {
  return revisions.map((r, i) => (i === 0 ? r : r - revisions[i - 1]!));
}

/** Undoes compactRevisions. */
export function expandRevisions(deltas: readonly number[]): number[] {
  let last = 0;
  return deltas.map((d) => (last += d));
}
