import { isByteQuantity, mebibytes, quantityBytes } from "../../constructs/quantity";

describe("byte quantities", () => {
  it("reads binary and decimal suffixes and plain bytes", () => {
    expect(quantityBytes("64Mi")).toBe(64 * 2 ** 20);
    expect(quantityBytes("1.5Gi")).toBe(1.5 * 2 ** 30);
    expect(quantityBytes("2Ki")).toBe(2048);
    expect(quantityBytes("500M")).toBe(500e6);
    expect(quantityBytes("1k")).toBe(1000);
    expect(quantityBytes("1048576")).toBe(2 ** 20);
  });

  it("refuses what is not a byte quantity, naming it", () => {
    for (const bad of ["lots", "64mi", "-1Gi", "1 Gi", "1e3", ""]) expect(isByteQuantity(bad)).toBe(false);
    expect(() => quantityBytes("64mi")).toThrow("'64mi' is not a memory quantity such as 512Mi or 2Gi");
  });

  it("prints whole MiB, rounded up", () => {
    expect(mebibytes(64 * 2 ** 20)).toBe("64Mi");
    expect(mebibytes(64 * 2 ** 20 + 1)).toBe("65Mi");
  });
});
