/** Longest id accepted for instances and streams. */
export const MAX_ID_LENGTH = 128;
/** Largest capacity an instance may announce. */
export const MAX_CAPACITY = 10_000;
/** Labels and metadata stay small: they travel with every assignment. */
export const MAX_MAP_ENTRIES = 64;
export const MAX_MAP_VALUE_LENGTH = 1_024;
/** The users' identification window: a stream names no song this long after it starts (WARM_UP_MS's default). */
export const IDENTIFICATION_WINDOW_MS = 15_000;
/** Reasons (a leave's, a freeze's) go into the audit log: a sentence, not a document. */
export const MAX_REASON_LENGTH = 256;
