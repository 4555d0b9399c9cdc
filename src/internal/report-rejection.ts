/**
 * Hands `promise` back unchanged for a caller that awaits it, and passes its rejection to
 * `report` as well. Attaching that handler marks the promise as handled, so a caller that does
 * not await it (the seed declares `destroy(): void`) gets no unhandled rejection, which would end
 * a Node process: the error still reaches the reporter (an `onError` callback or `error` event).
 *
 * @internal
 * @example destroy(): Promise<void> { return reportRejection(this.#close(), (e) => this.#report(e)); }
 */
export function reportRejection<T>(
  promise: Promise<T>,
  report: (error: unknown) => void,
): Promise<T> {
  promise.catch(report);
  return promise;
}
