/**
 * A field that breaks a rule. It names both so that each caller can say it in
 * its own terms: the gRPC layer as INVALID_ARGUMENT `field: rule`, an import
 * as `row 7: url: rule`, the table sync as a skipped row.
 */
export class FieldError extends Error {
  override name = "FieldError";
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}
