/** Request bodies as the processor accepts them: JSON in UTF-8, with an optional byte order mark. */

const FATAL_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Decodes a body as UTF-8, dropping a leading byte order mark. Invalid UTF-8 is an error rather than silently
 * replaced by U+FFFD, which would store and forward text the producer never sent.
 */
export function decodeBody(body: Buffer): { text: string } | { error: string } {
  try {
    return { text: FATAL_UTF8.decode(body) };
  } catch {
    const at = firstInvalidByte(body);
    return { error: `is not valid UTF-8 (first bad byte at offset ${at})` };
  }
}

function firstInvalidByte(body: Buffer): number {
  // the decoder does not say where it failed; halving finds the first prefix that does not decode
  let lo = 0;
  let hi = body.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(body.subarray(0, mid + 1), { stream: true });
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

/** `application/<subtype>` for one of `subtypes` (a regex alternation), optionally with charset=utf-8. */
const jsonMediaType = (subtypes: string) => new RegExp(`^\\s*application\\/(?:${subtypes})\\s*(?:;\\s*charset\\s*=\\s*(?:"utf-8"|utf-8)\\s*)?$`, "i");

const MEDIA_TYPE = jsonMediaType("cloudevents\\+json|json");

/**
 * True for the content types of a structured-mode CloudEvent in JSON: application/cloudevents+json (what the Dapr
 * sidecar sends for every single delivery) and application/json, each optionally with charset=utf-8. A missing
 * header is accepted; any other type or charset is not.
 */
export function acceptedContentType(header: string | undefined): boolean {
  return header === undefined || MEDIA_TYPE.test(header);
}

const BULK_MEDIA_TYPE = jsonMediaType("json");

/** True for the content type of a bulk delivery: application/json (what the sidecar sends), optionally charset=utf-8, or none. */
export function acceptedBulkContentType(header: string | undefined): boolean {
  return header === undefined || BULK_MEDIA_TYPE.test(header);
}
