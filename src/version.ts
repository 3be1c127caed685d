/** The product version, as `ztick --version` and STAT show it. */
export const VERSION = "0.1.0";
