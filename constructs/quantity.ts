/** Kubernetes memory and storage quantities (`512Mi`, `2Gi`, `500M`, `1048576`), as the API server reads them. */

const FACTORS: Record<string, number> = {
  "": 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};
const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/;

/** Whether `quantity` is a byte quantity this module reads. */
export function isByteQuantity(quantity: string): boolean {
  return QUANTITY.test(quantity);
}

/** Whole bytes of a memory or storage quantity; throws on anything else. */
export function quantityBytes(quantity: string): number {
  const m = QUANTITY.exec(quantity);
  if (!m) throw new Error(`'${quantity}' is not a memory quantity such as 512Mi or 2Gi`);
  return Math.floor(Number(m[1]) * FACTORS[m[2] ?? ""]);
}

/** A byte count as a quantity in whole MiB, rounded up (`67108864` -> `64Mi`). */
export function mebibytes(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)}Mi`;
}
