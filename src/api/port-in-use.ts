// The one "port in use" error. A store's port can be found taken in three places: by the
// orchestrator before it spawns a store, and by the store process itself when it binds its
// gRPC address or its metrics address. All three throw this class, so the CLI and the
// store process give the same exit status (src/api/exit-status.ts) whoever found it. It
// lives in src/api because node, orchestrator and cli may all import it.

import type { ErrorCode } from './codes.js';

/** The cluster-file field that names a store's port. */
export type PortField = 'addr' | 'metrics_addr';

/** Something other than this store holds one of its ports; nothing was started on it. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  readonly code: ErrorCode = 'PORT_IN_USE';
  /** host:port that is taken. */
  readonly addr: string;
  readonly field: PortField;
  /** The store that needed it, when the finder knows (the metrics server does not). */
  readonly storeId: number | undefined;

  constructor(message: string, where: { readonly addr: string; readonly field: PortField; readonly storeId?: number }) {
    super(message);
    this.addr = where.addr;
    this.field = where.field;
    this.storeId = where.storeId;
  }
}
