import { nativeClass } from "./native.js";
import { wrapNativeStorage } from "./storage.js";
import type { StorageAdapter } from "./types.js";

/**
 * Creates storage that keeps everything in process memory, lost on exit. For
 * tests and single-process development; the methods of `StorageAdapter` are
 * there, so a test can seed a client with `storage.createClient(...)`.
 */
export function memoryStorage(): StorageAdapter {
  return wrapNativeStorage(nativeClass("NativeStorage").memory());
}
