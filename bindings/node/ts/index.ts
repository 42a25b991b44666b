/**
 * Entry point `trustline`: the provider, the guard, in-memory storage, the
 * error class and every public type.
 */

export { AuthError } from "./errors.js";
export { createGuard } from "./guard.js";
export { memoryStorage } from "./memory.js";
export { createProvider } from "./provider.js";
export type * from "./types.js";
