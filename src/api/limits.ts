// The default limits on what a request may carry, shared by the store (which refuses
// more), the cluster file (which may set others) and the client (which checks before
// sending). One definition, so that the three cannot drift apart.

/** The largest key a store accepts unless the cluster file says otherwise. */
export const DEFAULT_MAX_KEY_BYTES = 4096;
/** The largest value a store accepts unless the cluster file says otherwise. */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
