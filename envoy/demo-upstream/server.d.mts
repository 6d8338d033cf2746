// Types for the tests that import the demo upstream's fake account record.
export declare const account: {
  readonly id: string;
  readonly owner: string;
  readonly card: { readonly number: string; readonly expiry: string };
  readonly cloud: { readonly accessKeyId: string; readonly region: string };
};
