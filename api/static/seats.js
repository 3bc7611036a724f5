// Seats as this tab holds them: one session per tab, and the server's next free seat.
// The server decides who gets a seat (the first `join` carrying a session claims it);
// the page only asks where to try, and tries again when the answer is `seat_taken`.

const SESSION_KEY = "moba-session";
const AUTO_KEY = "moba-auto-seat";

/** This tab's session: made once, kept across reloads (sessionStorage), never sent but to the gateway. */
export function tabSession(storage = sessionStorage) {
  let session = storage.getItem(SESSION_KEY);
  if (session === null) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    session = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    storage.setItem(SESSION_KEY, session);
  }
  return session;
}

/** The seat to try: GET /lobby/seat; `taken` are "game:player" seats seen taken. Throws Error with the server's message. */
export async function nextSeat({ game = null, taken = [] } = {}) {
  const query = new URLSearchParams();
  if (game !== null) query.set("game", String(game));
  for (const seat of taken) query.append("taken", seat);
  const response = await fetch(`/lobby/seat?${query}`);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message ?? `the server answered ${response.status}`);
  return body;
}

/** Remember that the seat `game`/`player` was suggested, not chosen: a lost race moves on by itself. */
export function markSuggested(game, player) {
  sessionStorage.setItem(AUTO_KEY, `${game}/${player}`);
}

/** Whether `game`/`player` was suggested (and forget it: the next visit is the player's choice). */
export function wasSuggested(game, player) {
  const suggested = sessionStorage.getItem(AUTO_KEY) === `${game}/${player}`;
  sessionStorage.removeItem(AUTO_KEY);
  return suggested;
}
