/**
 * "The server no longer knows this session", reported by every transport (urql, the WebSocket,
 * uploads) and handled in one place (main.ts: back to the login page).
 */
type Listener = () => void;

let listener: Listener = () => {};

export function onSessionExpired(handler: Listener): void {
  listener = handler;
}

export function notifySessionExpired(): void {
  listener();
}

export const UNAUTHENTICATED = 'auth/unauthenticated';
