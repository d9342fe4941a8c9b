// Snapshot generation, off the Ready loop: a consistent point-in-time view of kvdb (an
// engine snapshot) gives the region's data, apply state and region state as of one
// applied index, all from the same moment, since apply writes them in one batch. The
// pairs stream into a snapshot file through a bounded buffer; the raft Snapshot carries
// only (index, term, voters) and the file's descriptor.

import type { KvEngine } from '../engine/index.js';
import { iterateRange } from '../engine/index.js';
import { keys } from '../engine/index.js';
import { raft_serverpb } from '../gen/proto.js';
import type { Index, Snapshot, Term } from '../raft/index.js';
import { confStateOf, regionFromProto } from './region.js';
import { encodeDescriptor, regionStateRanges } from './snapshot-data.js';
import type { SnapshotFiles } from './snapshot-files.js';
import { generatedName } from './snapshot-files.js';
import { SnapshotEncoder } from './snapshot-format.js';

export interface GeneratedSnapshot {
  readonly snapshot: Snapshot;
  readonly fileName: string;
}

export interface GenerateOptions {
  readonly kv: KvEngine;
  readonly files: SnapshotFiles;
  readonly regionId: number;
  /** The term of a log entry above the truncated index, if the log still has it. */
  readonly termOf: (index: Index) => Term | undefined;
}

export async function generateSnapshot(o: GenerateOptions): Promise<GeneratedSnapshot> {
  const view = await o.kv.snapshot();
  try {
    const [applyRaw, regionRaw] = await Promise.all([view.get(keys.applyStateKey(o.regionId)), view.get(keys.regionStateKey(o.regionId))]);
    if (!applyRaw || !regionRaw) throw new Error(`region ${o.regionId}: no apply or region state to snapshot`);
    const apply = raft_serverpb.RaftApplyState.decode(applyRaw);
    const regionState = raft_serverpb.RegionLocalState.decode(regionRaw);
    if (!regionState.region) throw new Error(`region ${o.regionId}: region state without a region`);
    const region = regionFromProto(regionState.region);
    const index = Number(apply.applied_index);
    // Stryker disable next-line OptionalChaining: every apply state is written by encodeApplyState, which always sets truncated_state
    const truncated = Number(apply.truncated_state?.index ?? 0);
    // Stryker disable next-line OptionalChaining: every apply state is written by encodeApplyState, which always sets truncated_state
    const term = index === truncated ? Number(apply.truncated_state?.term ?? 0) : o.termOf(index);
    if (term === undefined) throw new Error(`region ${o.regionId}: the term of applied index ${index} is no longer in the log`);
    const fileName = generatedName(o.regionId, index, term);
    const writer = await o.files.create(fileName);
    const enc = new SnapshotEncoder();
    try {
      for (const [start, end] of regionStateRanges(region)) {
        for await (const [k, v] of iterateRange(view, { start, end }, 1024)) {
          const chunk = enc.add(k, v);
          if (chunk) await writer.write(chunk);
        }
      }
      await writer.write(enc.finish());
    } catch (e) {
      await writer.abort();
      throw e;
    }
    const { size, checksum } = await writer.finish();
    const data = encodeDescriptor({ region, fileSize: size, checksum, pairCount: enc.count });
    return {
      snapshot: { metadata: { index, term, confState: confStateOf(region) }, data },
      fileName,
    };
  } finally {
    await view.release();
  }
}
