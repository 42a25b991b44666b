import type { EventCallback } from "./native-types.js";
import type { TrustlineEventBase } from "./types.js";

type EventHook<TEvent> = (event: TEvent) => void | Promise<void>;

/**
 * Builds the native `onEvent` callback for a user hook. The hook gets the
 * event with `timestamp` as a `Date`. A hook that throws or rejects must not
 * break issuance or verification, so its failures are caught here; the first
 * one is reported as a process warning, later ones are dropped.
 */
export function eventCallbackFor<TEvent extends TrustlineEventBase<string>>(
  hook: EventHook<TEvent>,
  hookName: string,
): EventCallback {
  let warned = false;
  const reportFailure = (error: unknown): void => {
    if (warned) {
      return;
    }
    warned = true;
    const reason = error instanceof Error ? error.message : String(error);
    process.emitWarning(`${hookName} failed; later failures of this hook are not reported: ${reason}`, {
      type: "TrustlineWarning",
      code: "TRUSTLINE_EVENT_HOOK_FAILED",
    });
  };

  return (eventJson) => {
    try {
      const event = eventFromJson(eventJson) as TEvent;
      const returned: unknown = hook(event);
      if (isPromiseLike(returned)) {
        returned.then(undefined, reportFailure);
      }
    } catch (error) {
      reportFailure(error);
    }
  };
}

function eventFromJson(eventJson: string): TrustlineEventBase<string> {
  const event = JSON.parse(eventJson) as Omit<TrustlineEventBase<string>, "timestamp"> & { timestamp: unknown };
  const timestamp =
    typeof event.timestamp === "number" || typeof event.timestamp === "string"
      ? new Date(event.timestamp)
      : new Date();
  return { ...event, timestamp };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
