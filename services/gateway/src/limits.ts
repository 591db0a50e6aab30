/** Longest time the gateway gives a client to send a whole request (slow uploads and slowloris alike), ms. */
export const REQUEST_TIMEOUT_MS = 300_000;
